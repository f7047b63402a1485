"""The three disclosures through their services: drafting, publishing, immutability and
corrections, the publicity period and objections, progress, completion, evaluation."""

import datetime as dt
import hashlib
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from hypothesis import given
from hypothesis import strategies as st

from council import clock
from council.errors import InvalidMove, NotAllowed
from council.evidence import evidence_integrate, log_head
from council.models import Council, EvidenceEvent
from disclosure import services
from disclosure.models import Disclosure, Evaluation, Kind, ProgressUpdate
from disclosure.services._common import content_sha256
from disclosure.verdict import verdict_compute
from proposals.lifecycle import Move, proposal_move
from proposals.models import Stage
from voting.models import Reservation

pytestmark = pytest.mark.django_db


def _drafts(proposal, kind):
    return Disclosure.objects.filter(proposal=proposal, kind=kind, status="draft")


# --- Disclosure 1: the decision ----------------------------------------------------------------


def test_a_closed_ballot_drafts_the_decision_with_tally_and_roll_call(projects):
    proposal = projects.decided()
    draft = projects.decision(proposal)
    content = draft.content
    assert draft.version == 1 and draft.ballot is not None
    assert content["proposal"]["title"] == proposal.title
    assert content["outcome"] == "通过"
    assert content["ballot"]["yes"] == 4 and content["ballot"]["abstain"] == 1
    assert content["ballot"]["sentence"].endswith("通过。")
    assert len(content["votes"]) == 5
    assert {v["name"] for v in content["votes"]} == {
        m.display_name for m in projects.council.members
    }
    assert content["consultation"]["cost_estimate"] == "11800.00"


def test_a_secret_ballot_decision_names_no_votes(projects, world):
    Council.objects.filter(community=world.a).update(secrecy="secret")
    content = projects.decision(projects.decided()).content
    assert content["votes"] == []
    assert content["rules"]["secrecy"] == "无记名表决"


def test_an_inadmissible_proposal_publishes_its_reason(projects, world):
    proposal = projects.council.maker.make(Stage.INADMISSIBLE)
    assert services.decisions_draft_due() == 1
    draft = Disclosure.objects.get(proposal=proposal)
    assert draft.content["inadmissible_reason"] == "属于物业管理职责。"
    assert services.decisions_draft_due() == 0, "drafted once"


def test_only_staff_publish_and_publishing_seals_the_content(projects, world):
    proposal = projects.decided()
    draft = projects.decision(proposal)
    for outsider in (world.a_resident.user, world.b_staff, projects.council.members[0]):
        with pytest.raises(NotAllowed):
            services.disclosure_publish(actor=outsider, disclosure=draft)
    evidence_integrate()
    head_before = log_head()[1].hex()
    published = services.disclosure_publish(actor=world.a_staff, disclosure=draft)
    assert published.content_sha256 == content_sha256(published.content)
    event = EvidenceEvent.objects.get(action="disclosure.published")
    assert published.evidence_head == head_before, "the log's root as it was published"
    assert published.published_event == event, "its place in the log"
    assert event.payload["content_sha256"] == published.content_sha256
    assert event.payload["pdf_sha256"] == published.pdf_sha256
    assert published.pdf and len(published.pdf_sha256) == 64
    assert published.publicity_ends_at is not None


def test_the_content_hash_is_the_sha256_of_the_content_as_anyone_encodes_it(projects):
    """Anyone recomputes a published hash from the content with Python's own json module, as
    the public log's entries are encoded (docs/transparency-log.md): keys sorted, no spaces,
    Chinese as UTF-8."""
    published = Disclosure.objects.get(proposal=projects.published(), status="published")
    encoded = json.dumps(
        published.content, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ).encode()
    assert "更换小区路灯".encode() in encoded
    assert published.content_sha256 == hashlib.sha256(encoded).hexdigest()
    assert (
        content_sha256({"标题": "路灯", "b": [1, 2.5, None]})
        == hashlib.sha256('{"b":[1,2.5,null],"标题":"路灯"}'.encode()).hexdigest()
    )


def test_a_published_disclosure_never_changes(projects, world):
    proposal = projects.published()
    published = Disclosure.objects.get(proposal=proposal, status="published")
    sealed = (published.content, published.content_sha256, published.pdf_sha256)
    with pytest.raises(InvalidMove, match="never changes"):
        services.disclosure_publish(actor=world.a_staff, disclosure=published)
    # Redrafting (e.g. after an objection) makes a new version; the published row stays.
    services.decision_draft(proposal, note="test")
    published.refresh_from_db()
    assert (published.content, published.content_sha256, published.pdf_sha256) == sealed
    assert _drafts(proposal, Kind.DECISION).get().version == 2


def test_a_correction_is_a_new_version_and_both_link_to_each_other(projects, world):
    proposal = projects.published()
    first = Disclosure.objects.get(proposal=proposal, status="published")
    with pytest.raises(InvalidMove, match="Say what"):
        services.disclosure_correct(actor=world.a_staff, disclosure=first, note=" ")
    draft = services.disclosure_correct(
        actor=world.a_staff, disclosure=first, note="更正项目地点的写法。"
    )
    second = services.disclosure_publish(actor=world.a_staff, disclosure=draft)
    first.refresh_from_db()
    assert second.previous == first and first.next_version == second
    assert second.is_correction and second.note == "更正项目地点的写法。"
    assert first.status == second.status == "published"
    with pytest.raises(InvalidMove, match="latest"):
        services.disclosure_correct(actor=world.a_staff, disclosure=first, note="again")


# --- The publicity period and objections -------------------------------------------------------


def test_objections_are_answered_publicly_and_join_the_next_version(projects, world):
    proposal = projects.published()
    decision = Disclosure.objects.get(proposal=proposal, status="published")
    with pytest.raises(NotAllowed, match="residents"):
        services.objection_lodge(actor=world.b_resident.user, disclosure=decision, text="反对")
    objector = world.resident(world.a, world.a_grid2, "objector").user
    objection = services.objection_lodge(
        actor=objector, disclosure=decision, text="选址离住户太近，会有噪音。"
    )
    with pytest.raises(NotAllowed):
        services.objection_answer(actor=objector, objection=objection, answer="x")
    services.objection_answer(
        actor=world.a_staff, objection=objection, answer="已调整至停车场东侧，远离住宅。"
    )
    draft = _drafts(proposal, Kind.DECISION).get()
    assert draft.version == 2 and draft.previous == decision
    assert draft.content["objections"] == [
        {
            "lodged": draft.content["objections"][0]["lodged"],
            "text": "选址离住户太近，会有噪音。",
            "answer": "已调整至停车场东侧，远离住宅。",
            "answered": draft.content["objections"][0]["answered"],
        }
    ]
    assert objector.display_name not in str(draft.content), "objectors are not named"
    second = services.disclosure_publish(actor=world.a_staff, disclosure=draft)
    assert second.publicity_ends_at == decision.publicity_ends_at, "the period keeps running"


def test_no_objection_after_the_publicity_period(projects, world):
    decision = Disclosure.objects.get(proposal=projects.published(), status="published")
    with clock.travel(dt.timedelta(days=6)), pytest.raises(InvalidMove, match="publicity"):
        services.objection_lodge(actor=world.a_resident.user, disclosure=decision, text="晚了")


def test_implementation_starts_only_after_the_period_with_every_objection_answered(projects, world):
    proposal = projects.published()
    decision = Disclosure.objects.get(proposal=proposal, status="published")
    objection = services.objection_lodge(
        actor=world.a_resident.user, disclosure=decision, text="预算偏高。"
    )
    assert services.implementations_start_due() == 0  # the period is running
    with clock.travel(dt.timedelta(days=6)):
        assert services.implementations_start_due() == 0  # an objection is unanswered
        services.objection_answer(actor=world.a_staff, objection=objection, answer="已核价。")
        call_command("minutely")
    proposal.refresh_from_db()
    assert proposal.stage == Stage.IN_PROGRESS
    event = EvidenceEvent.objects.get(action="proposal.start")
    assert event.actor is None and event.payload["basis"] == {
        "type": "disclosure.disclosure",
        "id": decision.pk,
    }


def test_a_decision_answered_in_its_period_starts_the_project_once(projects, world):
    proposal = projects.published()
    decision = Disclosure.objects.get(proposal=proposal, status="published")
    objection = services.objection_lodge(
        actor=world.a_resident.user, disclosure=decision, text="预算偏高。"
    )
    services.objection_answer(actor=world.a_staff, objection=objection, answer="已核价。")
    second = services.disclosure_publish(
        actor=world.a_staff, disclosure=_drafts(proposal, Kind.DECISION).get()
    )
    with clock.travel(dt.timedelta(days=6)):
        assert services.disclosure_tick()["implementations_started"] == 1
        assert services.implementations_start_due() == 0
    proposal.refresh_from_db()
    assert proposal.stage == Stage.IN_PROGRESS
    event = EvidenceEvent.objects.get(action="proposal.start")
    basis = {"type": "disclosure.disclosure", "id": second.pk}
    assert event.payload["basis"] == basis, "the latest version is the basis"


def test_a_rejected_decision_has_no_publicity_period(projects, world):
    proposal = projects.published(approve=False)
    decision = Disclosure.objects.get(proposal=proposal, status="published")
    assert decision.publicity_ends_at is None
    assert decision.content["outcome"] == "未通过"


# --- Disclosure 2: progress ----------------------------------------------------------------


def test_each_progress_update_redrafts_disclosure_2_with_every_update(projects):
    proposal = projects.in_progress()
    projects.progress(proposal, 30, "3000.00")
    projects.progress(proposal, 60, "7000.00", day=2, text="主体完工。")
    draft = _drafts(proposal, Kind.IMPLEMENTATION).get()
    assert [u["percent"] for u in draft.content["updates"]] == [30, 60]
    assert draft.content["spent"] == "7000.00"
    assert draft.content["updates"][0]["provider"] == projects.provider.name


def test_a_progress_photo_cut_short_is_refused_and_nothing_posted(projects, world):
    import weasyprint  # noqa: F401  (sets Pillow's process-wide switch for truncated images)
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.proposals.test_media import photo_bytes

    proposal = projects.in_progress()
    whole = photo_bytes("JPEG")
    with pytest.raises(InvalidMove, match="incomplete"):
        services.progress_post(
            actor=world.a_staff, proposal=proposal, date=clock.today(), text="进场施工",
            percent=10, spent=Decimal("100"), provider=projects.provider,
            photos=[SimpleUploadedFile("site.jpg", whole[: len(whole) // 2])],
        )  # fmt: skip
    assert not ProgressUpdate.objects.filter(proposal=proposal).exists()


def test_progress_refusals(projects, world):
    approved = projects.published()
    with pytest.raises(InvalidMove, match="in progress"):
        projects.progress(approved, 10, "100.00")
    proposal = projects.in_progress()
    projects.progress(proposal, 50, "5000.00", day=1)
    with pytest.raises(InvalidMove, match="only grow"):
        projects.progress(proposal, 40, "6000.00", day=2)
    with pytest.raises(InvalidMove, match="before the previous"):
        projects.progress(proposal, 60, "6000.00", day=0)
    with pytest.raises(NotAllowed):
        services.progress_post(
            actor=world.a_resident.user, proposal=proposal, date=clock.today(), text="x",
            percent=70, spent=Decimal("7000"), provider=projects.provider,
        )  # fmt: skip
    assert ProgressUpdate.objects.filter(proposal=proposal).count() == 1


def test_a_csv_import_publishes_every_row_in_file_order(projects, world):
    proposal = projects.in_progress()
    today = clock.today().isoformat()
    data = (
        "text,provider,spent,percent,date,proposal_id\n"  # columns in any order
        f"进场施工,{projects.provider.name},2000.00,20,{today},{proposal.pk}\n"
        f'"完成一半,\n第二段",{projects.provider.name},"¥5,000.00",50,{today},{proposal.pk}\n'
    ).encode()
    report = services.progress_import_csv(actor=world.a_staff, community=world.a, data=data)
    assert (report.imported, report.errors) == (2, [])
    assert [u.percent for u in proposal.progress_updates.all()] == [20, 50]
    assert proposal.progress_updates.last().text == "完成一半,\n第二段"
    assert all(u.imported for u in proposal.progress_updates.all())


def test_a_csv_without_the_columns_is_refused_whole(projects, world):
    with pytest.raises(InvalidMove, match="missing: spent"):
        services.progress_import_csv(
            actor=world.a_staff, community=world.a, data=b"proposal_id,date,percent,provider,text\n"
        )


# --- Disclosure 3: completion and evaluation ---------------------------------------------------


@pytest.mark.parametrize(
    ("budget", "actual", "needs"),
    [
        ("10000", "11000", False),  # exactly 10% over
        ("10000", "11000.01", True),
        ("10000", "9000", False),  # exactly 10% under
        ("10000", "8999.99", True),
    ],
)
def test_the_variance_rule(budget, actual, needs):
    assert services.variance_needs_explanation(Decimal(budget), Decimal(actual)) is needs


def test_completion_above_10_percent_needs_an_explanation(projects, world):
    proposal = projects.in_progress()
    with pytest.raises(InvalidMove, match="more than 10%"):
        services.completion_record(
            actor=world.a_staff, proposal=proposal, acceptance_note="验收合格",
            actual=Decimal("14000.00"), provider=projects.provider,
        )  # fmt: skip
    proposal.refresh_from_db()
    assert proposal.stage == Stage.IN_PROGRESS
    services.completion_record(
        actor=world.a_staff, proposal=proposal, acceptance_note="验收合格",
        actual=Decimal("14000.00"), provider=projects.provider,
        variance_explanation="增加了两盏灯。",
    )  # fmt: skip
    proposal.refresh_from_db()
    assert proposal.stage == Stage.COMPLETED
    reservation = Reservation.objects.get(proposal=proposal)
    assert reservation.amount == Decimal("14000.00") and reservation.settled
    assert proposal.evaluation_window.is_open


def test_residents_evaluate_once_each_and_may_change_it(projects, world):
    proposal = projects.completed()
    window = proposal.evaluation_window
    resident = world.a_resident.user
    services.evaluation_give(actor=resident, window=window, rating="basic")
    services.evaluation_give(actor=resident, window=window, rating="satisfied", comment="很好")
    assert Evaluation.objects.filter(window=window, resident=resident).get().rating == "satisfied"
    with pytest.raises(NotAllowed, match="residents"):
        services.evaluation_give(actor=world.b_resident.user, window=window, rating="satisfied")
    with pytest.raises(InvalidMove):
        services.evaluation_give(actor=resident, window=window, rating="great")
    paper = services.evaluation_enter_paper(actor=world.a_staff, window=window, rating="basic")
    assert paper.resident is None and paper.entered_by == world.a_staff
    with clock.travel(dt.timedelta(days=15)), pytest.raises(InvalidMove, match="closed"):
        services.evaluation_give(actor=resident, window=window, rating="dissatisfied")


def test_closing_the_window_applies_the_verdict_and_drafts_disclosure_3(projects):
    proposal = projects.evaluated(ratings=("satisfied", "basic", "dissatisfied", "basic"))
    window = proposal.evaluation_window
    assert proposal.stage == Stage.EVALUATED
    assert (window.satisfied, window.basic, window.dissatisfied) == (1, 2, 1)
    assert window.verdict == "basic"  # 3 of 4 满意 or 基本满意; 1 of 4 满意
    draft = _drafts(proposal, Kind.RESULT).get()
    evaluation = draft.content["evaluation"]
    assert evaluation["total"] == 4 and evaluation["verdict_label"] == "基本满意"
    assert draft.content["completion"]["actual"] == "11800.00"


def test_the_scheduler_closes_a_window_at_its_time(projects):
    proposal = projects.completed()
    with clock.travel(dt.timedelta(days=15)):
        call_command("minutely")
    proposal.refresh_from_db()
    assert proposal.stage == Stage.EVALUATED
    assert proposal.evaluation_window.verdict == "none"


def test_closing_a_window_early_needs_staff_a_reason_and_an_open_window(projects, world):
    window = projects.completed().evaluation_window
    with pytest.raises(NotAllowed, match="Only the community's staff do this."):
        services.window_close(actor=world.a_resident.user, window=window, reason="够了")
    with pytest.raises(InvalidMove, match="Say why the window closes early"):
        services.window_close(actor=world.a_staff, window=window, reason=" ")
    with clock.travel(dt.timedelta(days=15)):
        closed = services.window_close(actor=world.a_staff, window=window, reason="提前")
        assert services.windows_close_due() == 0
    assert closed.closed_by is None and closed.close_reason == "" and closed.verdict == "none"
    with pytest.raises(InvalidMove, match="The evaluation window has closed."):
        services.window_close(actor=world.a_staff, window=window, reason="再关一次")


def test_evaluate_needs_the_window_basis(projects, world):
    proposal = projects.completed()
    with pytest.raises(InvalidMove):
        proposal_move(actor=world.a_staff, proposal=proposal, move=Move.EVALUATE)


# --- The verdict rule ---------------------------------------------------------------------------


def _verdict_reference(s, b, d):
    n = s + b + d
    if n == 0:
        return "none"
    if s / n > 0.5:
        return "satisfied"
    if (s + b) / n > 0.5:
        return "basic"
    return "dissatisfied"


@given(st.integers(0, 400), st.integers(0, 400), st.integers(0, 400))
def test_the_verdict_rule_matches_its_statement(s, b, d):
    assert verdict_compute(s, b, d) == _verdict_reference(s, b, d)


def test_verdict_edges():
    assert verdict_compute(0, 0, 0) == "none"
    assert verdict_compute(2, 0, 2) == "dissatisfied"  # exactly half is not more than half
    assert verdict_compute(2, 1, 2) == "basic"
    assert verdict_compute(3, 0, 2) == "satisfied"


def test_a_round_decision_states_its_approvals_money_and_reason(projects, world):
    from voting import services as voting_services

    council = projects.council
    council.envelope.amount = Decimal("30000.00")
    council.envelope.save()
    # Both get every approval: the cheaper one goes first, and the other no longer fits.
    funded, unfunded = council.proposal("15000"), council.proposal("20000")
    round_ = council.round([funded, unfunded], hours=2)
    for member in council.members:
        voting_services.round_ballot_submit(
            actor=member, round_=round_, approved=[funded.pk, unfunded.pk]
        )
    voting_services.round_close(actor=world.a_staff, round_=round_, reason="会议结束")
    assert services.decisions_draft_due() == 2
    won = _drafts(funded, Kind.DECISION).get().content
    lost = _drafts(unfunded, Kind.DECISION).get().content
    assert won["approved"] and won["round"]["approvals"] == 5
    assert not lost["approved"] and lost["round"]["money"] == "30000.00"
    assert "20,000.00" in lost["round"]["reason"]


def test_the_log_names_staff_as_staff_and_a_member_objecting_as_the_resident_they_are(
    projects, world
):
    proposal = projects.published()
    decision = Disclosure.objects.get(proposal=proposal, status="published")
    services.objection_lodge(actor=world.a_member.user, disclosure=decision, text="预算偏高。")
    assert EvidenceEvent.objects.get(action="disclosure.published").actor_role == "staff"
    assert EvidenceEvent.objects.get(action="objection.lodged").actor_role == "resident"
