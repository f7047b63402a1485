"""Existing roles brought under the separation of duties, before its constraints (0010).

Its own migration: on PostgreSQL the rows it updates leave deferred foreign-key checks pending,
and no index or constraint may be added to the table in the same transaction.
"""

from django.db import migrations
from django.db.models import F

# --- Existing rows, brought under the rules before the constraints are added -----------------


def hold_back_roles_against_the_rules(apps, schema_editor):
    """Until now ``role_assign`` wrote the granter into ``confirmed_by`` and nobody confirmed
    anything else. Move that to ``granted_by``; a role someone granted to themselves, a grid
    worker without a second person's confirmation and a district admin's staff or grid-worker
    role become pending (they grant nothing until staff confirm them in the admin).

    A role its holder confirmed, whatever its kind, loses that confirmation (0010 forbids it).
    That includes a residency: the old sign-up queue let staff or a grid worker confirm their
    own. Nobody else checked that they live there, so it is pending again, back among the
    sign-ups to confirm for another member of staff or the grid worker of its grid; an ended
    one stays ended."""
    Role = apps.get_model("council", "Role")
    own = Role.objects.filter(confirmed_by=F("user"))
    own.exclude(status="ended").update(status="pending")
    own.update(confirmed_by=None, confirmed_at=None)
    appointed = Role.objects.exclude(kind="resident")
    appointed.filter(confirmed_by__isnull=False).update(granted_by=F("confirmed_by"))
    grid_workers = appointed.filter(kind="grid_worker")
    grid_workers.exclude(status="ended").update(status="pending")
    grid_workers.update(confirmed_by=None, confirmed_at=None)
    admins = Role.objects.filter(kind="district_admin", status="active").values("user_id")
    Role.objects.filter(
        user_id__in=admins, kind__in=["staff", "grid_worker"], status="active"
    ).update(status="pending")


class Migration(migrations.Migration):

    dependencies = [
        ('council', '0008_role_granted_by'),
    ]

    operations = [
        migrations.RunPython(hold_back_roles_against_the_rules, migrations.RunPython.noop),
    ]
