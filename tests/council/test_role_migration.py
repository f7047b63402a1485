"""Upgrading a site that already has roles: the separation-of-duties migrations keep every row
and hold back the ones that break the new rules (on SQLite and PostgreSQL alike)."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("council", "0007_user_password_must_change")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _community(apps):
    """A district and a community of it, in the historical models ``apps``."""
    District = apps.get_model("council", "District")
    SubDistrict = apps.get_model("council", "SubDistrict")
    Community = apps.get_model("council", "Community")
    district = District.objects.create(name="区", slug="qu")
    community = Community.objects.create(
        sub_district=SubDistrict.objects.create(district=district, name="街道"),
        name="社区",
        slug="shequ",
        collection_opens=dt.date(2026, 1, 1),
        collection_closes=dt.date(2026, 6, 30),
        cap_engineering=1,
        cap_service=1,
        cap_goods=1,
    )
    return district, community


@pytest.mark.django_db(transaction=True)
def test_roles_against_the_rules_wait_for_a_second_person_after_the_upgrade():
    apps = migrate(BEFORE)
    User = apps.get_model("council", "User")
    Role = apps.get_model("council", "Role")
    Grid = apps.get_model("council", "Grid")
    district, community = _community(apps)
    grid = Grid.objects.create(community=community, name="网格")
    admin, staff, worker, expert, colleague, vouched = (
        User.objects.create(username=name, display_name=name)
        for name in ("admin", "staff", "worker", "expert", "colleague", "vouched")
    )
    root = User.objects.create(username="root", display_name="root", is_superuser=True)
    here = {"community": community}
    roles = {
        "admin": Role.objects.create(user=admin, kind="district_admin", district=district),
        # What the old admin let a district admin do: give itself a grid worker's role.
        "admin_as_worker": Role.objects.create(
            user=admin, kind="grid_worker", grid=grid, confirmed_by=admin, **here
        ),
        "staff": Role.objects.create(user=staff, kind="staff", **here),
        "worker": Role.objects.create(
            user=worker, kind="grid_worker", grid=grid, confirmed_by=staff, **here
        ),
        "own_expert": Role.objects.create(user=expert, kind="expert", confirmed_by=expert, **here),
        # What the old sign-up queue let staff do: confirm their own residency.
        "own_residency": Role.objects.create(
            user=staff, kind="resident", status="active", confirmed_by=staff, **here
        ),
        "own_ended_residency": Role.objects.create(
            user=worker, kind="resident", status="ended", confirmed_by=worker, **here
        ),
        "residency": Role.objects.create(
            user=expert, kind="resident", status="active", confirmed_by=staff, **here
        ),
        # A member of staff made by staff alone, and one the superuser made.
        "colleague": Role.objects.create(user=colleague, kind="staff", confirmed_by=staff, **here),
        "vouched": Role.objects.create(user=vouched, kind="staff", confirmed_by=root, **here),
    }

    apps = migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    Role = apps.get_model("council", "Role")
    after = {name: Role.objects.get(pk=role.pk) for name, role in roles.items()}
    state = {name: (r.status, r.granted_by_id, r.confirmed_by_id) for name, r in after.items()}
    assert state == {
        "admin": ("active", None, None),
        "admin_as_worker": ("pending", None, None),
        "staff": ("active", None, None),
        "worker": ("pending", staff.pk, None),  # granted by staff, awaiting a second person
        "own_expert": ("pending", None, None),
        # Never confirmed by a second person: back in the sign-ups to confirm.
        "own_residency": ("pending", None, None),
        "own_ended_residency": ("ended", None, None),
        "residency": ("active", None, staff.pk),  # confirmed by someone else: as it was
        "colleague": ("pending", staff.pk, None),  # awaiting a second member of staff
        "vouched": ("active", None, root.pk),  # set up by the superuser, as new ones are
    }


@pytest.mark.django_db(transaction=True)
def test_staff_made_by_staff_alone_wait_for_a_second_person_after_the_upgrade():
    """A site already under the separation of duties, where staff made staff alone."""
    apps = migrate([("council", "0011_one_line_fields_refuse_line_breaks")])
    User = apps.get_model("council", "User")
    Role = apps.get_model("council", "Role")
    district, community = _community(apps)
    staff, colleague, vouched, confirmed = (
        User.objects.create(username=name, display_name=name)
        for name in ("staff", "colleague", "vouched", "confirmed")
    )
    root = User.objects.create(username="root", display_name="root", is_superuser=True)
    here = {"community": community, "kind": "staff"}
    roles = {
        "staff": Role.objects.create(user=staff, **here),
        "colleague": Role.objects.create(user=colleague, granted_by=staff, **here),
        "vouched": Role.objects.create(user=vouched, granted_by=root, **here),
        "confirmed": Role.objects.create(
            user=confirmed, granted_by=staff, confirmed_by=root, **here
        ),
    }

    apps = migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    Role = apps.get_model("council", "Role")
    state = {
        name: (r.status, r.granted_by_id, r.confirmed_by_id)
        for name, r in ((name, Role.objects.get(pk=role.pk)) for name, role in roles.items())
    }
    assert state == {
        "staff": ("active", None, None),  # set up from the command line
        "colleague": ("pending", staff.pk, None),
        "vouched": ("active", None, root.pk),
        "confirmed": ("active", staff.pk, root.pk),  # a second person confirmed it already
    }
