"""Rounds to and from Pabulib files: what researchers' tools read must match what we did."""

import io
import os
import subprocess
import sys
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from voting import services
from voting.models import Round
from voting.pabulib import parse, write

pytestmark = pytest.mark.django_db


def _round(council, world, rule="greedy"):
    council.envelope.amount = Decimal("40000.00")
    council.envelope.save()
    a, b, c = (council.proposal(cost) for cost in ("25000", "10000", "12000"))
    round_ = council.round([a, b, c], rule=rule)
    ballots = [[a, b], [a], [a, c], [c], [b, c]]
    for member, approved in zip(council.members, ballots, strict=True):
        services.round_ballot_submit(actor=member, round_=round_, approved=[p.pk for p in approved])
    return round_


@pytest.mark.parametrize("rule", ["greedy", "mes"])
def test_an_exported_round_allocates_the_same_in_allocate_pabulib(council, world, tmp_path, rule):
    round_ = _round(council, world, rule)
    path = tmp_path / "round.pb"
    call_command("export_pabulib", round_.pk, output=str(path), stderr=io.StringIO())
    instance = parse(path.read_text(encoding="utf-8"))
    assert instance.meta["budget"] == "40000" and instance.meta["vote_type"] == "approval"
    assert {row["voter_id"] for row in instance.votes} == {m.username for m in council.members}
    out = io.StringIO()
    call_command("allocate_pabulib", str(path), rule=rule, stdout=out)
    services.round_close(actor=world.a_staff, round_=round_, reason="核对")
    funded = set(round_.projects.filter(funded=True).values_list("proposal_id", flat=True))
    assert {int(line) for line in out.getvalue().split()} == funded


def test_a_secret_round_exports_anonymous_voters(council, world):
    from council.models import Council

    Council.objects.filter(community=world.a).update(secrecy="secret")
    round_ = _round(council, world)
    out = io.StringIO()
    call_command("export_pabulib", round_.pk, stdout=out)
    text = out.getvalue()
    assert all(m.username not in text for m in council.members)
    assert sorted(row["voter_id"] for row in parse(text).votes) == ["1", "2", "3", "4", "5"]


def test_import_opens_a_round_with_the_votes_as_paper_ballots(council, world, tmp_path):
    a, b = council.proposal("10000"), council.proposal("20000")
    instance = parse(
        "META\nkey;value\nbudget;30000\nvote_type;approval\nrule;greedy\n"
        f"PROJECTS\nproject_id;cost\n{a.pk};10000\n{b.pk};20000\n"
        "VOTES\nvoter_id;vote\n"
        + "".join(f'{m.username};"{a.pk},{b.pk}"\n' for m in council.members[:4])
    )
    path = tmp_path / "paper.pb"
    path.write_text(write(instance), encoding="utf-8")
    out = io.StringIO()
    call_command(
        "import_pabulib",
        str(path),
        community=world.a.slug,
        clerk=world.a_staff.username,
        stdout=out,
    )
    round_ = Round.objects.get()
    assert "4 ballots recorded" in out.getvalue()
    assert all(b.recorded_by == world.a_staff for b in round_.ballots.all())


def test_import_refuses_an_unknown_voter_and_writes_nothing(council, world, tmp_path):
    a, b = council.proposal("10000"), council.proposal("20000")
    path = tmp_path / "bad.pb"
    path.write_text(
        "META\nkey;value\nbudget;30000\nvote_type;approval\n"
        f"PROJECTS\nproject_id;cost\n{a.pk};10000\n{b.pk};20000\n"
        f"VOTES\nvoter_id;vote\n{council.members[0].username};{a.pk}\nstranger;{b.pk}\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="stranger"):
        call_command("import_pabulib", str(path), community=world.a.slug, clerk="a_staff")
    assert not Round.objects.exists()


def test_import_names_the_line_and_field_of_a_malformed_file(council, world, tmp_path):
    path = tmp_path / "broken.pb"
    path.write_text(
        "META\nkey;value\nbudget;30000\nvote_type;approval\n"
        "PROJECTS\nproject_id;cost\n1;abc\nVOTES\nvoter_id;vote\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="line 7, field cost"):
        call_command("import_pabulib", str(path), community=world.a.slug, clerk="a_staff")


def _paper(council, a, b, votes=None):
    votes = votes if votes is not None else [f"{m.username};{a.pk}\n" for m in council.members]
    return (
        "META\nkey;value\nbudget;30000\nvote_type;approval\n"
        f"PROJECTS\nproject_id;cost\n{a.pk};10000\n{b.pk};20000\n"
        "VOTES\nvoter_id;vote\n" + "".join(votes)
    )


def _import(path, world):
    call_command(
        "import_pabulib",
        str(path),
        community=world.a.slug,
        clerk=world.a_staff.username,
        stdout=io.StringIO(),
    )


@pytest.mark.parametrize(
    ("encode", "named"),
    [
        (lambda text: text.replace("budget", "预算说明;x\nbudget").encode("gbk"), "GBK"),
        (lambda text: text.encode("utf-16"), "UTF-16"),
        (lambda text: bytes(range(256)) * 8, "not a text file"),
    ],
    ids=["gbk", "utf-16", "binary"],
)
def test_import_names_an_encoding_other_than_utf8(council, world, tmp_path, encode, named):
    a, b = council.proposal("10000"), council.proposal("20000")
    path = tmp_path / "round.pb"
    path.write_bytes(encode(_paper(council, a, b)))
    with pytest.raises(CommandError) as caught:
        _import(path, world)
    assert named in str(caught.value) and "UTF-8" in str(caught.value)
    assert not Round.objects.exists()


def test_import_reads_utf8_with_a_byte_order_mark(council, world, tmp_path):
    a, b = council.proposal("10000"), council.proposal("20000")
    path = tmp_path / "round.pb"
    path.write_bytes(_paper(council, a, b).encode("utf-8-sig"))
    _import(path, world)
    assert Round.objects.get().ballots.count() == len(council.members)


@pytest.mark.parametrize(
    "number",
    ["9" * 5000, "9" * 30],
    ids=["5000 digits", "30 digits"],
)
def test_import_refuses_a_project_id_no_database_integer_holds(council, world, tmp_path, number):
    a, b = council.proposal("10000"), council.proposal("20000")
    text = _paper(council, a, b).replace(f"\n{b.pk};20000\n", f"\n{number};20000\n")
    path = tmp_path / "round.pb"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        _import(path, world)
    assert "Not a proposal of" in str(caught.value)
    assert len(str(caught.value)) < 300
    assert not Round.objects.exists()


def test_import_refuses_a_5000_digit_count(council, world, tmp_path):
    a, b = council.proposal("10000"), council.proposal("20000")
    text = _paper(council, a, b).replace("budget;30000", "budget;30000\nnum_votes;" + "9" * 5000)
    path = tmp_path / "round.pb"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CommandError, match="line 4, field num_votes"):
        _import(path, world)
    assert not Round.objects.exists()


def test_import_lists_every_unknown_voter_and_writes_nothing(council, world, tmp_path):
    a, b = council.proposal("10000"), council.proposal("20000")
    votes = [f"{council.members[0].username};{a.pk}\n", f"stranger;{b.pk}\n", f"ghost;{a.pk}\n"]
    path = tmp_path / "round.pb"
    path.write_text(_paper(council, a, b, votes), encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        _import(path, world)
    assert "stranger" in str(caught.value) and "ghost" in str(caught.value)
    assert not Round.objects.exists()


def test_import_refuses_a_file_over_one_megabyte_or_a_round_too_large(council, world, tmp_path):
    a, b = council.proposal("10000"), council.proposal("20000")
    path = tmp_path / "round.pb"
    path.write_text(_paper(council, a, b) + "\n" * (1024 * 1024), encoding="utf-8")
    with pytest.raises(CommandError, match="1 MB"):
        _import(path, world)
    votes = [f"voter{n};{a.pk}\n" for n in range(1001)]
    path.write_text(_paper(council, a, b, votes), encoding="utf-8")
    with pytest.raises(CommandError, match="field VOTES"):
        _import(path, world)
    assert not Round.objects.exists()


def test_import_pabulib_prints_no_traceback_for_a_gbk_file(tmp_path):
    # A subprocess, as a clerk runs it; the error comes before any database is touched.
    path = tmp_path / "round.pb"
    path.write_bytes("META\nkey;value\ndescription;东湖社区\n".encode("gbk"))
    env = {
        **os.environ,
        "DATABASE_URL": "",
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "PYTHONPATH": str(settings.BASE_DIR),
    }
    done = subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "import_pabulib", str(path),
         "--community", "donghu", "--clerk", "donghu-staff1"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "GBK" in done.stderr


@pytest.mark.postgres
@pytest.mark.parametrize("length", [121, 200, 10_000])
def test_import_refuses_a_description_too_long_for_a_title_on_postgresql(
    council, world, tmp_path, length
):
    # PostgreSQL refuses a value longer than its column with an error (DataError), where
    # SQLite would store it: the file is refused first, with a message, and nothing written.
    a, b = council.proposal("10000"), council.proposal("20000")
    text = _paper(council, a, b).replace(
        "budget;30000", "description;" + "长" * length + "\nbudget;30000"
    )
    path = tmp_path / "round.pb"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        _import(path, world)
    assert "at most 120 characters" in str(caught.value)
    assert f"this one has {length}" in str(caught.value)
    assert not Round.objects.exists()


def test_import_takes_a_description_of_exactly_120_characters_as_the_title(
    council, world, tmp_path
):
    a, b = council.proposal("10000"), council.proposal("20000")
    text = _paper(council, a, b).replace(
        "budget;30000", "description;" + "长" * 120 + "\nbudget;30000"
    )
    path = tmp_path / "round.pb"
    path.write_text(text, encoding="utf-8")
    _import(path, world)
    assert Round.objects.get().title == "长" * 120
