"""The demo data, and the privacy rule checked against it: nothing private in public."""

import pytest
from django.core.management import call_command
from django.db.models import F
from django.urls import reverse

from council.evidence import evidence_verify
from council.models import (
    Community,
    EvidenceEvent,
    PrivateData,
    Role,
    RoleKind,
    RoleStatus,
    SeatCategory,
    User,
)
from tests.conftest import signs_in
from tests.demo import rows_of

pytestmark = pytest.mark.django_db


def counts():
    return (
        User.objects.count(),
        Role.objects.count(),
        PrivateData.objects.count(),
        EvidenceEvent.objects.count(),
        Community.objects.count(),
    )


def test_demo_has_two_communities_with_people_in_every_role(demo_data):
    assert Community.objects.count() == 2
    kinds = set(Role.objects.values_list("kind", flat=True))
    assert kinds == set(RoleKind.values)
    donghu = Community.objects.get(slug="donghu")
    members = Role.objects.filter(community=donghu, kind=RoleKind.COUNCIL_MEMBER)
    assert 12 <= members.count() <= 18
    assert set(members.values_list("seat_category", flat=True)) == set(SeatCategory.values)
    residents = Role.objects.filter(kind=RoleKind.RESIDENT)
    assert 35 <= residents.count() <= 50
    assert residents.filter(status=RoleStatus.PENDING).exists()
    workers = Role.objects.filter(kind=RoleKind.GRID_WORKER)
    assert {w.status for w in workers} == {RoleStatus.ACTIVE}
    assert all(w.granted_by and w.confirmed_by not in (None, w.granted_by) for w in workers)
    staff = Role.objects.filter(kind=RoleKind.STAFF)
    assert {(s.status, s.granted_by) for s in staff} == {(RoleStatus.ACTIVE, None)}  # set up
    assert not Role.objects.filter(confirmed_by=F("user")).exists()
    assert all("\u4e00" <= u.display_name[0] <= "\u9fff" for u in User.objects.all())
    assert evidence_verify().ok


def test_demo_is_idempotent(demo_data):
    before = counts()
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert counts() == before


def test_demo_prints_one_sign_in_per_role(demo_snapshot):
    out = demo_snapshot.value  # of the session's seed_demo, run on an empty database
    for role in (
        "district admin",
        "community staff",
        "grid worker",
        "expert",
        "council member",
        "resident",
    ):
        assert role in out
    assert "weishi-demo" in out


def test_demo_sign_ins_work(client, demo_data):
    from council.demo import DEMO_PASSWORD

    assert signs_in("donghu-staff1", DEMO_PASSWORD)
    client.force_login(User.objects.get(username="donghu-staff1"))
    assert client.get(reverse("residents", args=["donghu"])).status_code == 200


def test_no_phone_id_number_or_address_appears_on_any_public_page(client, demo_data):
    private = list(PrivateData.objects.values_list("phone", "id_number", "address"))
    assert private
    pages = ["/", "/evidence/", "/c/donghu/", "/c/xiling/", "/accounts/signup/"]
    for lang in ("zh-hans", "en"):
        for path in pages:
            text = client.get(path, HTTP_ACCEPT_LANGUAGE=lang).content.decode()
            for phone, id_number, address in private:
                assert phone not in text, (path, "phone")
                assert not id_number or id_number not in text, (path, "ID number")
                assert not id_number or id_number[-8:] not in text, (path, "ID number tail")
                assert address not in text, (path, "address")


def test_the_evidence_log_holds_no_private_data(demo_data):
    private = PrivateData.objects.values_list("phone", "id_number", "address")
    log = " ".join(str(p) for p in EvidenceEvent.objects.values_list("payload", flat=True))
    for phone, id_number, address in private:
        assert phone not in log and address not in log
        assert not id_number or id_number not in log


def test_residents_appear_in_the_public_evidence_log_by_role_only(client, demo_data):
    text = client.get("/evidence/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    residents = User.objects.filter(roles__kind=RoleKind.RESIDENT).exclude(
        roles__kind__in=[RoleKind.COUNCIL_MEMBER, RoleKind.STAFF]
    )
    for user in residents:
        assert user.display_name not in text
    assert "resident" in text


def test_the_seeded_database_of_each_test_is_the_one_seed_demo_left(demo_snapshot, demo_data):
    """The fixture's restore (tests/demo.py) gives back every row as seeded, nothing else."""
    for model, rows in demo_snapshot.rows.items():
        assert rows_of(model) == rows, model._meta.db_table
    assert demo_snapshot.rows[EvidenceEvent] and demo_snapshot.rows[Role]
