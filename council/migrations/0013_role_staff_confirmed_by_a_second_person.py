"""An active member of staff was confirmed by someone other than who granted it (or set up with
no granter), in the database as for grid workers.

On SQLite adding a check constraint rebuilds council_role, which drops the separation-of-duties
triggers of 0010: they are created again after the rebuild, and before the one that undoing
this migration makes.
"""

from importlib import import_module

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

separation = import_module("council.migrations.0010_role_separation_of_duties")
SQLITE_TRIGGERS = separation.SQLITE_BACKWARD + separation.SQLITE_FORWARD


class Migration(migrations.Migration):

    dependencies = [
        ("council", "0012_role_hold_back_staff_without_a_second_person"),
    ]

    operations = [
        separation.VendorRunSQL("sqlite", migrations.RunSQL.noop, SQLITE_TRIGGERS),
        migrations.AlterField(
            model_name="role",
            name="granted_by",
            field=models.ForeignKey(
                blank=True,
                help_text=(
                    "Empty for a sign-up, for setup from the command line and for a staff role "
                    "the superuser set up (recorded as its confirmer)."
                ),
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="granted by",
            ),
        ),
        migrations.AddConstraint(
            model_name="role",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "staff"), ("status", "active"), _negated=True),
                    ("granted_by__isnull", True),
                    models.Q(
                        ("confirmed_by__isnull", False),
                        models.Q(("confirmed_by", models.F("granted_by")), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="role_staff_confirmed_by_a_second_person",
            ),
        ),
        separation.VendorRunSQL("sqlite", SQLITE_TRIGGERS, migrations.RunSQL.noop),
    ]
