"""Open data: each dataset's files carry exactly its documented schema, the values are those of
the records, and nothing private or secret goes in."""

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from council import clock
from council.models import Council
from disclosure import opendata, services
from disclosure.models import Completion, EvaluationWindow
from proposals.models import Stage
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


def fetch(client, name, fmt):
    response = client.get(reverse("open_data_file", args=[name, fmt]))
    assert response.status_code == 200
    if fmt == "json":
        assert response["Content-Type"] == "application/json"
        return json.loads(response.content)
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs
    assert f"weishi-{name}.csv" in response["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


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
    reader = csv.reader(io.StringIO(response.content.decode("utf-8-sig")))
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
