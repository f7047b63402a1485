"""Existing staff roles brought under the second-person rule, before its constraint (0013).

Its own migration, as 0009: on PostgreSQL the rows it updates leave deferred foreign-key checks
pending, and no constraint may be added to the table in the same transaction.
"""

from django.db import migrations
from django.db.models import F, Q


def hold_back_staff_without_a_second_person(apps, schema_editor):
    """Until now a member of staff granted by staff was active at once. Such a role, unless
    someone other than its granter confirmed it, becomes pending: it grants nothing until
    another member of that community's staff (or the superuser) confirms it in the admin. A
    staff role the superuser granted stays active, recorded as the new code records it: set up
    (no granter), confirmed by the superuser. Roles set up from the command line (no granter)
    are left as they are."""
    Role = apps.get_model("council", "Role")
    alone = Role.objects.filter(kind="staff", status="active", granted_by__isnull=False).filter(
        Q(confirmed_by__isnull=True) | Q(confirmed_by=F("granted_by"))
    )
    alone.filter(granted_by__is_superuser=True).update(
        confirmed_by=F("granted_by"), confirmed_at=F("created_at"), granted_by=None
    )
    alone.update(status="pending", confirmed_by=None, confirmed_at=None)


class Migration(migrations.Migration):

    dependencies = [
        ("council", "0011_one_line_fields_refuse_line_breaks"),
    ]

    operations = [
        migrations.RunPython(hold_back_staff_without_a_second_person, migrations.RunPython.noop),
    ]
