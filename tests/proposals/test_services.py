"""Proposing, co-signing, reviewing and consulting, through the services."""

import datetime as dt
import io
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image

from council import clock
from council.errors import InvalidMove, NotAllowed
from council.models import EvidenceEvent
from proposals import services
from proposals.lifecycle import Move, proposal_move
from proposals.models import CoSign, Proposal, Revision, Stage
from tests.proposals.conftest import PROPOSAL_DATA

pytestmark = pytest.mark.django_db


def test_a_resident_drafts_then_submits_and_the_text_becomes_revision_one(world):
    proposer = world.a_resident.user
    draft = services.proposal_create(actor=proposer, community=world.a, data=PROPOSAL_DATA)
    assert draft.stage == Stage.DRAFT and draft.entered_by is None
    assert "<strong>三盏</strong>" in draft.body_html
    submitted = services.proposal_submit(actor=proposer, proposal=draft)
    assert submitted.stage == Stage.SUBMITTED and submitted.submitted_at is not None
    assert list(submitted.revisions.values_list("number", "title")) == [(1, "更换小区路灯")]


def test_submitting_outside_the_collection_window_is_refused_and_the_draft_kept(world):
    draft = services.proposal_create(
        actor=world.a_resident.user, community=world.a, data=PROPOSAL_DATA
    )
    # A month later the window has closed.
    with clock.travel(dt.timedelta(days=31)), pytest.raises(InvalidMove, match="collection window"):
        services.proposal_submit(actor=world.a_resident.user, proposal=draft)
    draft.refresh_from_db()
    assert draft.stage == Stage.DRAFT
    assert not Revision.objects.filter(proposal=draft).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", ""),
        ("title", "长" * 81),
        ("summary", ""),
        ("estimated_cost", Decimal("0")),
        ("estimated_cost", Decimal("-5")),
        ("estimated_cost", Decimal("500000.01")),
        ("project_type", "rocket"),
    ],
)
def test_bad_proposal_input_is_refused_on_its_field_and_nothing_saved(world, field, value):
    with pytest.raises(ValidationError) as raised:
        services.proposal_create(
            actor=world.a_resident.user, community=world.a, data={**PROPOSAL_DATA, field: value}
        )
    assert field in raised.value.message_dict
    assert not Proposal.objects.exists()


def test_script_in_markdown_is_cleaned(world):
    proposal = services.proposal_create(
        actor=world.a_resident.user,
        community=world.a,
        data={**PROPOSAL_DATA, "body": "好<script>alert(1)</script><img src=x onerror=alert(1)>"},
    )
    assert "<script" not in proposal.body_html and "onerror" not in proposal.body_html


def test_only_residents_of_the_community_propose(world):
    for outsider in (world.b_resident.user, world.a_staff, world.a_expert):
        with pytest.raises(NotAllowed, match="residents of"):
            services.proposal_create(actor=outsider, community=world.a, data=PROPOSAL_DATA)


def test_staff_enter_a_paper_proposal_on_a_residents_behalf(world):
    proposal = services.proposal_create(
        actor=world.a_staff,
        community=world.a,
        data=PROPOSAL_DATA,
        on_behalf_of=world.a_resident.user,
    )
    assert proposal.proposer == world.a_resident.user and proposal.entered_by == world.a_staff
    submitted = services.proposal_submit(actor=world.a_staff, proposal=proposal)
    assert submitted.stage == Stage.SUBMITTED
    with pytest.raises(InvalidMove):
        services.proposal_create(
            actor=world.a_staff, community=world.a, data=PROPOSAL_DATA,
            on_behalf_of=world.b_resident.user,
        )  # fmt: skip


def test_co_signs_reach_the_threshold_and_move_the_proposal_to_review(proposals, world):
    proposal = proposals.make(Stage.SUBMITTED)
    for i in range(world.a.cosign_threshold - 1):
        proposal = services.cosign_add(actor=proposals.cosigner(i), proposal=proposal)
        assert proposal.stage == Stage.SUBMITTED
    last = proposals.cosigner(world.a.cosign_threshold - 1)
    proposal = services.cosign_add(actor=last, proposal=proposal)
    assert proposal.stage == Stage.UNDER_REVIEW


def test_co_signing_twice_ones_own_or_another_communitys_proposal_is_refused(proposals, world):
    proposal = proposals.make(Stage.SUBMITTED)
    services.cosign_add(actor=proposals.cosigner(0), proposal=proposal)
    with pytest.raises(InvalidMove, match="already co-signed"):
        services.cosign_add(actor=proposals.cosigner(0), proposal=proposal)
    with pytest.raises(InvalidMove, match="your own"):
        services.cosign_add(actor=world.a_resident.user, proposal=proposal)
    with pytest.raises(NotAllowed, match="Only residents of"):
        services.cosign_add(actor=world.b_resident.user, proposal=proposal)
    assert CoSign.objects.filter(proposal=proposal).count() == 1


def test_a_co_sign_is_taken_back_only_while_gathering(proposals, world):
    proposal = proposals.make(Stage.SUBMITTED)
    services.cosign_add(actor=proposals.cosigner(0), proposal=proposal)
    services.cosign_withdraw(actor=proposals.cosigner(0), proposal=proposal)
    assert not CoSign.objects.filter(proposal=proposal).exists()
    with pytest.raises(InvalidMove):
        services.cosign_withdraw(actor=proposals.cosigner(0), proposal=proposal)
    reviewed = proposals.make(Stage.UNDER_REVIEW)
    with pytest.raises(InvalidMove, match="only while"):
        services.cosign_withdraw(actor=proposals.cosigner(0), proposal=reviewed)


def test_merging_carries_co_signers_over_and_links_both(proposals, world):
    target = proposals.make(Stage.SUBMITTED, title="路灯维修（合并后）")
    duplicate = proposals.make(Stage.SUBMITTED, title="路灯坏了")
    services.cosign_add(actor=proposals.cosigner(0), proposal=duplicate)
    services.cosign_add(actor=proposals.cosigner(1), proposal=duplicate)
    services.cosign_add(actor=proposals.cosigner(1), proposal=target)
    duplicate = proposal_move(actor=world.a_staff, proposal=duplicate, move=Move.TAKE_UP)
    merged = services.proposal_merge(actor=world.a_staff, proposal=duplicate, target=target)
    assert merged.stage == Stage.MERGED and merged.merged_into == target
    supporters = set(target.cosigns.values_list("user_id", flat=True))
    # cosigner0 carried over, cosigner1 not twice; the duplicate's proposer is the target's too.
    assert supporters == {proposals.cosigner(0).pk, proposals.cosigner(1).pk}
    assert list(target.merged_from.all()) == [merged]


def test_co_signs_carried_over_by_a_merge_can_cross_the_targets_threshold(proposals, world):
    target = proposals.make(Stage.SUBMITTED, title="路灯维修（合并后）")
    duplicate = proposals.make(Stage.SUBMITTED, title="路灯坏了")
    for i in range(world.a.cosign_threshold):
        services.cosign_add(actor=proposals.cosigner(i), proposal=duplicate)
        duplicate.refresh_from_db()
        if duplicate.stage != Stage.SUBMITTED:
            break
    services.proposal_merge(actor=world.a_staff, proposal=duplicate, target=target)
    target.refresh_from_db()
    assert target.stage == Stage.UNDER_REVIEW


def test_a_proposal_still_gathering_co_signs_is_not_merged_until_taken_up(proposals, world):
    target = proposals.make(Stage.SUBMITTED, title="路灯维修（合并后）")
    duplicate = proposals.make(Stage.SUBMITTED, title="路灯坏了")
    with pytest.raises(InvalidMove, match="while the proposal is gathering co-signs"):
        services.proposal_merge(actor=world.a_staff, proposal=duplicate, target=target)
    duplicate.refresh_from_db()
    assert duplicate.stage == Stage.SUBMITTED and duplicate.merged_into is None


def test_merging_into_itself_or_another_community_is_refused(proposals, world):
    proposal = proposals.make(Stage.UNDER_REVIEW)
    with pytest.raises(InvalidMove):
        services.proposal_merge(actor=world.a_staff, proposal=proposal, target=proposal)


def test_experts_are_invited_and_only_invited_experts_give_opinions(proposals, world):
    proposal = proposals.make(Stage.CONSULTATION)
    with pytest.raises(NotAllowed, match="invited"):
        services.opinion_post(
            actor=world.a_expert, proposal=proposal, recommendation="support", remarks="可行"
        )
    services.expert_invite(actor=world.a_staff, proposal=proposal, expert=world.a_expert)
    with pytest.raises(InvalidMove, match="already invited"):
        services.expert_invite(actor=world.a_staff, proposal=proposal, expert=world.a_expert)
    with pytest.raises(InvalidMove, match="not an expert"):
        services.expert_invite(actor=world.a_staff, proposal=proposal, expert=world.a_worker1)
    proposal = Proposal.objects.get(pk=proposal.pk)
    opinion = services.opinion_post(
        actor=world.a_expert, proposal=proposal, recommendation="support_with_changes",
        remarks="建议采用**LED**灯具",
    )  # fmt: skip
    assert "<strong>LED</strong>" in opinion.remarks_html


def test_the_proposer_revises_in_consultation_and_every_revision_is_kept(proposals, world):
    proposal = proposals.make(Stage.CONSULTATION)
    proposer = world.a_resident.user
    services.proposal_revise(
        actor=proposer, proposal=proposal, title="更换并增设小区路灯",
        summary=proposal.summary, body=proposal.body + "\n\n另增设一盏。", note="增设",
        seen_revision=1,
    )  # fmt: skip
    with pytest.raises(InvalidMove, match="revised since"):
        services.proposal_revise(
            actor=proposer, proposal=proposal, title="旧页面的修改", summary="x", body="y",
            seen_revision=1,
        )  # fmt: skip
    with pytest.raises(NotAllowed):
        services.proposal_revise(
            actor=world.a_staff, proposal=proposal, title="t", summary="s", body="b"
        )
    assert list(proposal.revisions.values_list("number", flat=True)) == [1, 2]
    proposal.refresh_from_db()
    assert proposal.title == "更换并增设小区路灯"


def _jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (800, 600), "red")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {2: (22.0, 32.0, 0.0), 4: (114.0, 3.0, 0.0)}  # GPS latitude / longitude
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_a_photo_cut_short_is_refused_and_nothing_attached(proposals, world, settings, tmp_path):
    import weasyprint  # noqa: F401  (sets Pillow's process-wide switch for truncated images)

    from tests.proposals.test_media import photo_bytes

    settings.MEDIA_ROOT = tmp_path
    proposal = proposals.make(Stage.DRAFT)
    whole = photo_bytes("JPEG")
    upload = SimpleUploadedFile("IMG_0002.jpg", whole[: len(whole) - 64], "image/jpeg")
    with pytest.raises(ValidationError, match="incomplete"):
        services.attachment_add(actor=world.a_resident.user, proposal=proposal, uploaded=upload)
    assert not proposal.attachments.exists()


def test_photos_are_re_encoded_without_exif_and_get_a_thumbnail(
    proposals, world, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    proposal = proposals.make(Stage.DRAFT)
    upload = SimpleUploadedFile("IMG_0001.HEIC.jpg", _jpeg_with_exif(), "image/jpeg")
    assert Image.open(io.BytesIO(_jpeg_with_exif())).getexif()
    attachment = services.attachment_add(
        actor=world.a_resident.user, proposal=proposal, uploaded=upload
    )
    assert attachment.kind == "photo"
    with Image.open(attachment.file.path) as stored:
        assert not stored.getexif()
    with Image.open(attachment.thumbnail.path) as thumb:
        assert max(thumb.size) <= 320


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("photo.jpg", b"#!/bin/sh\necho not an image", "not a photo"),
        ("big.png", b"\x89PNG" + b"0" * (10 * 1024 * 1024 + 1), "too large"),
    ],
)
def test_files_are_judged_by_content_and_size_not_by_name(
    proposals, world, settings, tmp_path, name, content, message
):
    settings.MEDIA_ROOT = tmp_path
    proposal = proposals.make(Stage.DRAFT)
    with pytest.raises(ValidationError, match=message):
        services.attachment_add(
            actor=world.a_resident.user, proposal=proposal,
            uploaded=SimpleUploadedFile(name, content),
        )  # fmt: skip
    assert not proposal.attachments.exists()


def test_a_pdf_is_kept_as_a_document(proposals, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    proposal = proposals.make(Stage.DRAFT)
    attachment = services.attachment_add(
        actor=world.a_resident.user, proposal=proposal,
        uploaded=SimpleUploadedFile("方案.pdf", b"%PDF-1.4\n%...\n"),
    )  # fmt: skip
    assert attachment.kind == "document" and attachment.name.endswith(".pdf")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_co_signs_cross_the_threshold_exactly_once(world):
    proposer = world.a_resident.user
    proposal = services.proposal_create(actor=proposer, community=world.a, data=PROPOSAL_DATA)
    proposal = services.proposal_submit(actor=proposer, proposal=proposal)
    signers = [world.resident(world.a, world.a_grid1, f"parallel{i}").user for i in range(8)]
    barrier = threading.Barrier(len(signers))
    errors = []

    def sign(user):
        try:
            barrier.wait()
            services.cosign_add(actor=user, proposal=proposal)
        except InvalidMove:
            pass  # signers after the threshold find it under review: a clear refusal
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign, args=(u,)) for u in signers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    proposal.refresh_from_db()
    assert proposal.stage == Stage.UNDER_REVIEW
    assert proposal.cosigns.count() == world.a.cosign_threshold
    from council.models import EvidenceEvent

    assert (
        EvidenceEvent.objects.filter(
            action=f"proposal.{Move.REACH_THRESHOLD}", object_id=str(proposal.pk)
        ).count()
        == 1
    )


def test_the_log_names_each_step_in_the_role_it_is_taken_in(world, proposals):
    proposal = proposals.make(Stage.CONSULTATION)
    services.feasibility_record(
        actor=world.a_staff, proposal=proposal, feasible=True,
        cost_estimate=Decimal("11800.00"), plan="由社区工作站联系施工单位更换。",
    )  # fmt: skip
    services.proposal_revise(
        actor=world.a_resident.user, proposal=proposal, title=proposal.title,
        summary=proposal.summary, body=proposal.body + "\n\n补充：夜间施工。",
    )  # fmt: skip
    services.proposal_create(
        actor=world.a_staff, community=world.a, data=PROPOSAL_DATA,
        on_behalf_of=world.a_member.user,
    )  # fmt: skip
    roles = {}
    for action, role in EvidenceEvent.objects.filter(object_type="proposals.proposal").values_list(
        "action", "actor_role"
    ):
        roles.setdefault(action, set()).add(role)
    assert roles == {
        "proposal.created": {"resident"},
        "proposal.submit": {"resident"},
        "proposal.cosigned": {"resident"},
        "proposal.reach_threshold": {"resident"},  # the co-sign that reached it
        "proposal.admissibility_recorded": {"staff"},
        "proposal.admit": {"staff"},
        "proposal.feasibility_recorded": {"staff"},
        "proposal.revised": {"resident"},
        "proposal.created_on_behalf": {"staff"},
    }
