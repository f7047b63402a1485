"""Open data: each dataset's files carry exactly its documented schema, the values are those of
the records, and nothing private or secret goes in."""

import csv
import datetime as dt
import io
import json
import tracemalloc
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from council import clock
from council.models import Council
from disclosure import opendata, services
from disclosure.models import Completion, EvaluationWindow
from proposals.models import Proposal, Stage
from voting import services as voting_services
from voting.models import Ballot, Eligibility, Vote

from .test_public import decide

NAMES = ["proposals", "ballots", "votes", "spending", "evaluations"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def quick_pdf(monkeypatch):
    monkeypatch.setattr(
        "disclosure.services.publishing._render_pdf", lambda disclosure: b"%PDF-1.7 test\n"
    )


@pytest.fixture
def records(projects):
    """An evaluated project, one in progress with spending, a rejected one, one decided by
    a secret ballot, and a draft proposal."""
    evaluated = projects.evaluated(ratings=("satisfied", "basic", "dissatisfied"))
    running = projects.in_progress(cost="20000.00")
    projects.progress(running, 40, "7500.50")
    rejected = projects.published(approve=False)
    Council.objects.filter(community=projects.world.a).update(secrecy="secret")
    secret = decide(projects)
    draft = projects.council.maker.make(Stage.DRAFT, title="尚未提交的草稿")
    return {
        "evaluated": evaluated,
        "running": running,
        "rejected": rejected,
        "secret": secret,
        "draft": draft,
    }


def fetch(client, name, fmt, **params):
    response = client.get(reverse("open_data_file", args=[name, fmt]), params)
    assert response.status_code == 200
    assert response.streaming, "sent as it is written, never built whole in memory"
    body = response.getvalue()
    if fmt == "json":
        assert response["Content-Type"] == "application/json"
        return json.loads(body)
    if fmt == "jsonl":
        return [json.loads(line) for line in body.decode().splitlines()]
    assert response["Content-Type"].startswith("text/csv")
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs
    assert f"weishi-{name}" in response["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def by(rows, key):
    return {str(row[key]): row for row in rows}


@pytest.mark.parametrize("name", NAMES)
def test_each_file_has_exactly_the_schemas_columns(records, client, name):
    ds = opendata.DATASETS[name]
    document = fetch(client, name, "json")
    assert document["dataset"] == name
    assert [c["name"] for c in document["schema"]] == ds.fields
    assert all(c["type"] in opendata.TYPES and c["meaning"] for c in document["schema"])
    assert document["rows"], name
    for row in document["rows"]:
        assert list(row) == ds.fields

    response = client.get(reverse("open_data_file", args=[name, "csv"]))
    reader = csv.reader(io.StringIO(response.getvalue().decode("utf-8-sig")))
    header, *rows = list(reader)
    assert header == ds.fields
    assert len(rows) == len(document["rows"])
    assert all(len(row) == len(header) for row in rows)


def test_ballot_tallies_match_the_records(records, client):
    for fmt in ("json", "csv"):
        rows = fetch(client, "ballots", fmt)
        rows = rows["rows"] if fmt == "json" else rows
        ballots = Ballot.objects.filter(status="closed")
        assert len(rows) == ballots.count() == 4
        indexed = by(rows, "ballot_id")
        for ballot in ballots:
            row = indexed[str(ballot.pk)]
            as_int = int if fmt == "csv" else (lambda v: v)
            assert as_int(row["base"]) == ballot.base == 5
            assert as_int(row["yes"]) == ballot.yes
            assert as_int(row["no"]) == ballot.no
            assert as_int(row["abstain"]) == ballot.abstain == 1
            assert as_int(row["participation"]) == ballot.yes + ballot.no + ballot.abstain
            assert row["outcome"] == ballot.outcome
            assert row["threshold"] == ballot.threshold
            assert row["quorum"] == f"{ballot.quorum_numerator}/{ballot.quorum_denominator}"
            assert row["secrecy"] == ballot.secrecy
            assert row["votes_sha256"] == ballot.votes_sha256
            assert "：" in row["sentence"]  # in the official language, whatever the page's
        rejected = indexed[str(records["rejected"].ballots.get().pk)]
        assert rejected["outcome"] == "rejected"
        assert str(rejected["yes"]) == "0" and str(rejected["no"]) == "4"


def test_votes_are_per_member_on_roll_call_ballots_only(records, client):
    rows = fetch(client, "votes", "json")["rows"]
    secret = records["secret"].ballots.get()
    assert secret.is_secret
    assert str(secret.pk) not in {str(r["ballot_id"]) for r in rows}
    roll_call = Ballot.objects.filter(status="closed", secrecy="roll_call")
    assert len(rows) == Eligibility.objects.filter(ballot__in=roll_call).count() == 15
    votes = {(v.ballot_id, v.member.display_name): v.choice for v in Vote.objects.filter(
        ballot__in=roll_call).select_related("member")}  # fmt: skip
    for row in rows:
        assert row["choice"] == votes.get((row["ballot_id"], row["member"]), "did_not_vote")
        assert row["seat"] in {"organisation", "notable", "registered", "non_registered"}
    assert {r["choice"] for r in rows} == {"yes", "no", "abstain"}


def test_each_rounds_projects_show_their_place_cost_approvals_and_funding(projects, client):
    council = projects.council
    slate = [council.proposal(cost) for cost in ("450000", "400000", "120000.50")]
    round_ = voting_services.round_open(
        actor=projects.staff, community=projects.world.a, title="2026 年度集中表决",
        proposals=slate, closes_at=clock.now() + dt.timedelta(hours=2), rule="mes",
    )  # fmt: skip
    for member, approved in zip(council.members, [[1], [1], [1, 2], [2], []], strict=True):
        voting_services.round_ballot_submit(
            actor=member, round_=round_, approved=[slate[i].pk for i in approved]
        )
    voting_services.round_close(actor=projects.staff, round_=round_, reason="会议表决完毕")
    [row] = fetch(client, "rounds", "json")["rows"]
    assert (row["rule"], row["completion"]) == ("mes", "add1")
    rows = fetch(client, "round_projects", "json")["rows"]
    funded = {rp.proposal_id: rp for rp in round_.projects.all()}
    assert [r["proposal_id"] for r in rows] == [p.pk for p in slate]
    for position, row in enumerate(rows, 1):
        rp = funded[row["proposal_id"]]
        assert row["round_id"] == round_.pk and row["position"] == position
        assert row["cost"] == f"{rp.cost:.2f}" and row["approvals"] == rp.approvals
        assert row["funded"] == ("yes" if rp.funded else "no")
    assert [r["approvals"] for r in rows] == [0, 3, 2]
    assert [r["funded"] for r in rows] == ["no", "yes", "yes"]  # nobody approved the first
    assert rows[2]["cost"] == "120000.50"


def test_spending_matches_reservations_progress_and_final_accounts(records, client):
    rows = by(fetch(client, "spending", "json")["rows"], "proposal_id")
    evaluated, running = records["evaluated"], records["running"]
    assert str(records["rejected"].pk) not in rows  # nothing reserved for it
    completion = Completion.objects.get(proposal=evaluated)
    done = rows[str(evaluated.pk)]
    assert done["budget"] == f"{completion.budget:.2f}" == "11800.00"
    assert done["actual"] == f"{completion.actual:.2f}"
    assert done["spent_so_far"] == done["actual"]
    assert done["variance"] == "0.00"
    assert done["variance_percent"] == "0.0"
    assert done["stage"] == "evaluated"
    assert done["envelope_year"] == evaluated.reservation.envelope.year
    going = rows[str(running.pk)]
    assert going["budget"] == "20000.00"
    assert going["spent_so_far"] == "7500.50"
    assert going["actual"] is None and going["variance"] is None
    csv_rows = by(fetch(client, "spending", "csv"), "proposal_id")
    assert csv_rows[str(running.pk)]["actual"] == ""
    assert csv_rows[str(running.pk)]["spent_so_far"] == "7500.50"
    assert Decimal(csv_rows[str(evaluated.pk)]["budget"]) == completion.budget


def test_evaluations_match_the_closed_windows(records, client):
    rows = fetch(client, "evaluations", "json")["rows"]
    window = EvaluationWindow.objects.get(proposal=records["evaluated"])
    assert len(rows) == 1
    row = rows[0]
    assert (row["satisfied"], row["basic"], row["dissatisfied"]) == (1, 1, 1)
    assert (window.satisfied, window.basic, window.dissatisfied) == (1, 1, 1)
    assert row["total"] == 3
    assert row["paper"] == 0
    assert row["residents"] == window.residents
    assert row["participation_percent"] == f"{Decimal(300) / window.residents:.1f}"
    assert row["verdict"] == window.verdict == "basic"
    assert "comment" not in json.dumps(rows)


def test_proposals_are_the_public_ones(records, client):
    rows = by(fetch(client, "proposals", "json")["rows"], "proposal_id")
    assert str(records["draft"].pk) not in rows
    running = rows[str(records["running"].pk)]
    assert running["cost"] == "20000.00"  # staff's feasibility estimate, not the proposer's
    assert running["stage"] == "in_progress"
    assert running["project_type"] == "engineering"
    assert running["url"].endswith(
        reverse("project", args=[records["running"].community.slug, records["running"].pk])
    )


@pytest.mark.parametrize(
    "path", ["/open-data/nothing.csv", "/open-data/ballots.xml", "/open-data/ballots.CSV"]
)
def test_unknown_dataset_or_format_is_404(client, db, path):
    assert client.get(path).status_code == 404


def test_the_page_documents_every_column_and_links_every_file(client, db):
    html = client.get(reverse("open_data"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for ds in opendata.DATASETS.values():
        assert f'id="dataset-{ds.name}"' in html
        for column in ds.columns:
            assert f"<code>{column.name}</code>" in html
        for fmt in opendata.FORMATS:
            assert reverse("open_data_file", args=[ds.name, fmt]) in html
    assert "decimal" in html and "Type" in html and "Meaning" in html


def test_files_take_a_constant_number_of_queries(projects, client):
    def counts():
        result = {}
        for name in NAMES:
            with CaptureQueriesContext(connection) as ctx:
                client.get(reverse("open_data_file", args=[name, "json"]))
            result[name] = len(ctx.captured_queries)
        return result

    projects.evaluated()
    few = counts()
    for _ in range(3):
        proposal = projects.in_progress()
        projects.progress(proposal, 20, "200.00")
    window = projects.completed().evaluation_window
    services.window_close(actor=projects.staff, window=window, reason="提前结束（测试）")
    projects.published(approve=False)
    assert counts() == few


def test_formulas_typed_by_users_open_as_text_while_negative_amounts_stay_numbers(projects, client):
    title, summary, reason = '=HYPERLINK("http://x","y")', "@SUM(A1) +1+1", "-2+3"
    council = projects.council
    ballot = council.ballot(council.maker.make(Stage.VOTING, title=title, summary=summary))
    council.vote(ballot, ["yes"] * 4 + ["abstain"])
    voting_services.ballot_close(actor=projects.staff, ballot=ballot, reason=reason)
    under_budget = projects.completed(actual="11000.00")  # budget 11800.00

    csv_proposals = by(fetch(client, "proposals", "csv"), "proposal_id")
    assert csv_proposals[str(ballot.proposal_id)]["title"] == "'" + title
    assert csv_proposals[str(ballot.proposal_id)]["summary"] == "'" + summary
    csv_ballot = by(fetch(client, "ballots", "csv"), "ballot_id")[str(ballot.pk)]
    assert csv_ballot["title"] == "'" + title
    assert csv_ballot["closed_early_reason"] == "'" + reason
    assert csv_ballot["yes"] == "4"
    spent = by(fetch(client, "spending", "csv"), "proposal_id")[str(under_budget.pk)]
    assert (spent["variance"], spent["variance_percent"]) == ("-800.00", "-6.8")

    # JSON is not a spreadsheet's: it keeps exactly what was typed.
    json_ballot = by(fetch(client, "ballots", "json")["rows"], "ballot_id")[str(ballot.pk)]
    assert (json_ballot["title"], json_ballot["closed_early_reason"]) == (title, reason)
    json_proposal = by(fetch(client, "proposals", "json")["rows"], "proposal_id")
    assert json_proposal[str(ballot.proposal_id)]["summary"] == summary


# --- Streaming, splits, versions -------------------------------------------------------------


def test_json_lines_carry_the_same_rows_as_the_json_file(records, client):
    for name in NAMES:
        assert fetch(client, name, "jsonl") == fetch(client, name, "json")["rows"], name


def _closed_days_ago(proposal, days):
    """Its ballot closed ``days`` earlier (the test world's collection window is now's)."""
    Ballot.objects.filter(proposal=proposal).update(closed_at=clock.now() - dt.timedelta(days=days))


def test_a_file_by_community_and_by_year_carries_only_those_rows(projects, client):
    world = projects.world
    ours = projects.published()
    last_year = projects.published()
    _closed_days_ago(last_year, 400)
    all_ids = {r["proposal_id"] for r in fetch(client, "proposals", "json")["rows"]}
    assert {ours.pk, last_year.pk} <= all_ids

    rows = fetch(client, "proposals", "json", community=world.a.slug)["rows"]
    assert rows and {r["community_slug"] for r in rows} == {world.a.slug}
    this_year = clock.today().year
    rows = fetch(client, "ballots", "json", year=str(this_year))["rows"]
    assert ours.ballots.get().pk in {r["ballot_id"] for r in rows}
    assert last_year.ballots.get().pk not in {r["ballot_id"] for r in rows}
    assert {r["closed"][:4] for r in rows} == {str(this_year)}


def test_the_index_lists_every_split_file_and_each_address_serves_it(projects, client):
    _closed_days_ago(projects.published(), 400)
    projects.published()
    response = client.get(reverse("open_data_index"))
    assert response.status_code == 200 and response.streaming
    index = json.loads(response.getvalue())
    by_name = {d["name"]: d for d in index["datasets"]}
    assert set(by_name) == set(opendata.DATASETS)
    assert by_name["ballots"]["since"] is True and by_name["proposals"]["since"] is False
    years = {f["year"] for f in by_name["ballots"]["files"]}
    assert len(years) == 2
    for entry in by_name["ballots"]["files"]:
        assert entry["community"] == projects.world.a.slug
        response = client.get(entry["json"])
        rows = json.loads(response.getvalue())["rows"]
        assert rows and {r["closed"][:4] for r in rows} == {str(entry["year"])}


def test_since_lists_only_what_closed_on_or_after_that_day(projects, client):
    old = projects.published()
    _closed_days_ago(old, 30)
    new = projects.published()
    since = (clock.today() - dt.timedelta(days=1)).isoformat()
    rows = fetch(client, "ballots", "json", since=since)["rows"]
    ids = {r["ballot_id"] for r in rows}
    assert new.ballots.get().pk in ids and old.ballots.get().pk not in ids


@pytest.mark.parametrize(
    ("name", "params", "reason"),
    [
        ("ballots", {"since": "2025-13-45"}, "YYYY-MM-DD"),
        ("ballots", {"since": "yesterday"}, "YYYY-MM-DD"),
        ("ballots", {"since": "2999-01-01"}, "still to come"),
        ("proposals", {"since": "2024-01-01"}, "whole, or by community or year"),
        ("ballots", {"year": "twenty"}, "four digits"),
        ("ballots", {"year": "-1"}, "2000"),
        ("ballots", {"community": "nowhere"}, "short name"),
    ],
)
def test_a_part_that_cannot_be_given_is_refused_with_its_reason(db, client, name, params, reason):
    response = client.get(
        reverse("open_data_file", args=[name, "json"]), params, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert reason in response.content.decode()


def test_the_refusal_is_in_chinese_by_default(db, client):
    response = client.get(reverse("open_data_file", args=["ballots", "csv"]), {"since": "x"})
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.content.decode() and "日期" in response.content.decode()


def test_a_client_holding_this_version_gets_304_until_something_is_recorded(projects, client):
    projects.published()
    url = reverse("open_data_file", args=["ballots", "csv"])
    first = client.get(url)
    first.getvalue()
    etag, modified = first["ETag"], first["Last-Modified"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    # Another part of the same dataset is another file.
    other = client.get(url, {"year": clock.today().year}, HTTP_IF_NONE_MATCH=etag)
    assert other.status_code == 200
    projects.published()  # a new ballot closes: a new version
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200 and again["ETag"] != etag
    assert len(list(csv.reader(io.StringIO(again.getvalue().decode("utf-8-sig"))))) == 3


def _bulk_proposals(community, proposer, count, start=0):
    Proposal.objects.bulk_create(
        Proposal(
            community=community,
            proposer=proposer,
            title=f"更换第{n}栋楼道灯",
            summary="居民反映楼道灯损坏多年，" * 4,
            body="说明",
            body_html="<p>说明</p>",
            project_type="engineering",
            estimated_cost=Decimal(1000 + n),
            stage=Stage.SUBMITTED,
            submitted_at=clock.now(),
            stage_changed_at=clock.now(),
        )
        for n in range(start, start + count)
    )


def _peak_while_reading(client, url) -> tuple[int, int]:
    """(bytes read, the most memory held at once while the file was produced and read piece
    by piece, as a client reads it)."""
    tracemalloc.start()
    try:
        response = client.get(url)
        size = 0
        for piece in response.streaming_content:
            size += len(piece)
        return size, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_file_four_times_as_large_needs_no_more_memory_to_send(world, client):
    url = reverse("open_data_file", args=["proposals", "csv"])
    _bulk_proposals(world.a, world.a_resident.user, 1500)
    small_size, small_peak = _peak_while_reading(client, url)
    _bulk_proposals(world.a, world.a_resident.user, 4500, start=1500)
    large_size, large_peak = _peak_while_reading(client, url)
    assert large_size > 3.5 * small_size
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)
    # What the 4,500 more rows added to the most held at once: a small part of their bytes.
    assert large_peak - small_peak < (large_size - small_size) / 10


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_file_is_streamed_in_the_requests_thread(projects, async_client):
    from asgiref.sync import sync_to_async

    await sync_to_async(projects.published)()
    response = await async_client.get(reverse("open_data_file", args=["ballots", "jsonl"]))
    assert response.status_code == 200 and response.streaming
    assert response.is_async, "an async iterator, which daphne sends as it comes"
    body = b"".join([piece async for piece in response.streaming_content])
    assert [json.loads(line)["outcome"] for line in body.decode().splitlines()] == ["approved"]
