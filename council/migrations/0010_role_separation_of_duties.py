"""Separation of duties in the database: check constraints where one row suffices, triggers
for the rule across a person's rows (written for SQLite and PostgreSQL)."""

from django.db import migrations, models

# --- The cross-row rule, as triggers: a check constraint sees one row only ------------------
# A person with an active district-admin role holds no active role that reads residents'
# private data (staff, grid worker), and the other way round. On SQLite a later migration that
# rebuilds council_role (AlterField and the like) drops its triggers: such a migration must
# create them again (tests/council/test_separation_of_duties.py fails if it does not).

PRIVATE_KINDS = "('staff', 'grid_worker')"
REFUSAL = "role_district_admin_reads_no_private_data"


def _sqlite_trigger(name: str, event: str, exclude_self: str = "") -> str:
    return f"""
CREATE TRIGGER council_role_separation_{name}
BEFORE {event} ON council_role
WHEN NEW.status = 'active' AND (
    (NEW.kind = 'district_admin' AND EXISTS (
        SELECT 1 FROM council_role AS other
        WHERE other.user_id = NEW.user_id AND other.status = 'active'
          AND other.kind IN {PRIVATE_KINDS}{exclude_self}))
    OR (NEW.kind IN {PRIVATE_KINDS} AND EXISTS (
        SELECT 1 FROM council_role AS other
        WHERE other.user_id = NEW.user_id AND other.status = 'active'
          AND other.kind = 'district_admin'{exclude_self}))
)
BEGIN
    SELECT RAISE(ABORT, '{REFUSAL}');
END"""


SQLITE_FORWARD = [
    _sqlite_trigger("insert", "INSERT"),
    _sqlite_trigger("update", "UPDATE OF kind, status, user_id", " AND other.id <> OLD.id"),
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS council_role_separation_insert",
    "DROP TRIGGER IF EXISTS council_role_separation_update",
]

POSTGRESQL_FORWARD = [
    f"""
CREATE FUNCTION council_role_separation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'active' AND NEW.kind IN ('district_admin', 'staff', 'grid_worker') THEN
        -- Two transactions granting one person an admin and a staff role at once would each
        -- miss the other's uncommitted row: the person's row serialises them.
        PERFORM 1 FROM council_user WHERE id = NEW.user_id FOR NO KEY UPDATE;
        IF EXISTS (
            SELECT 1 FROM council_role AS other
            WHERE other.user_id = NEW.user_id AND other.id <> NEW.id AND other.status = 'active'
              AND CASE WHEN NEW.kind = 'district_admin'
                       THEN other.kind IN {PRIVATE_KINDS}
                       ELSE other.kind = 'district_admin' END
        ) THEN
            RAISE EXCEPTION 'a district admin holds no role that reads residents'' private data'
                USING ERRCODE = 'check_violation', CONSTRAINT = '{REFUSAL}';
        END IF;
    END IF;
    RETURN NEW;
END
$$""",
    """
CREATE TRIGGER council_role_separation
BEFORE INSERT OR UPDATE OF kind, status, user_id ON council_role
FOR EACH ROW EXECUTE FUNCTION council_role_separation()""",
]
POSTGRESQL_BACKWARD = [
    "DROP TRIGGER IF EXISTS council_role_separation ON council_role",
    "DROP FUNCTION IF EXISTS council_role_separation()",
]


class VendorRunSQL(migrations.RunSQL):
    """``RunSQL`` for one database vendor only (the SQL of the other is skipped)."""

    def __init__(self, vendor, sql, reverse_sql):
        self.vendor = vendor
        super().__init__(sql, reverse_sql)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):

    dependencies = [
        ('council', '0009_role_hold_back_roles_against_the_rules'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='role',
            constraint=models.CheckConstraint(condition=models.Q(('granted_by__isnull', True), models.Q(('granted_by', models.F('user')), _negated=True), _connector='OR'), name='role_not_granted_to_oneself'),
        ),
        migrations.AddConstraint(
            model_name='role',
            constraint=models.CheckConstraint(condition=models.Q(('confirmed_by__isnull', True), models.Q(('confirmed_by', models.F('user')), _negated=True), _connector='OR'), name='role_not_confirmed_by_oneself'),
        ),
        migrations.AddConstraint(
            model_name='role',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'grid_worker'), ('status', 'active'), _negated=True), models.Q(('confirmed_by__isnull', False), models.Q(('granted_by__isnull', True), models.Q(('confirmed_by', models.F('granted_by')), _negated=True), _connector='OR')), _connector='OR'), name='role_grid_worker_confirmed_by_a_second_person'),
        ),
        VendorRunSQL("sqlite", SQLITE_FORWARD, SQLITE_BACKWARD),
        VendorRunSQL("postgresql", POSTGRESQL_FORWARD, POSTGRESQL_BACKWARD),
    ]
