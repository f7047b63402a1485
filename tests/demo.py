"""Data built once per test session and put back into each test that asks for it.

``seed_demo`` walks every proposal through the real services and renders its PDFs: about ten
seconds. The ``world`` of tests/conftest.py (people in every role, built through the services)
costs a tenth of a second, but a thousand tests ask for it. :class:`Snapshot` builds either once,
in a transaction it rolls back, keeping the rows the build added; a test then gets them back
with :meth:`Snapshot.restore` inside its own transaction (rolled back as usual), on SQLite and
PostgreSQL alike.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.test import TestCase


def _tables() -> list[type[models.Model]]:
    """Every model with a table of its own (many-to-many tables included), one per table."""
    found = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.managed and not meta.proxy and not meta.swapped:
            found.setdefault(meta.db_table, model)
    return list(found.values())


def _fields(model: type[models.Model]) -> list[models.Field]:
    """The columns of the model's own table that an insert writes."""
    return [f for f in model._meta.local_concrete_fields if not f.generated]


def rows_of(model: type[models.Model]) -> list[tuple]:
    """The rows of the model's table, in id order, as :meth:`DemoSnapshot.restore` writes them."""
    columns = [f.attname for f in _fields(model)]
    return list(model._base_manager.order_by("pk").values_list(*columns))


@dataclass
class Snapshot:
    """What a build returned (``value``) and the rows it added, table by table (models in the
    order of ``INSTALLED_APPS``)."""

    value: Any
    rows: dict[type[models.Model], list[tuple]] = field(default_factory=dict)

    @classmethod
    def take(cls, build: Callable[[], Any]) -> "Snapshot":
        """Run ``build()`` once (its on-commit work run, as after a real commit) and keep what
        it returned and the rows it added; the database is left as it was.

        Raises ``RuntimeError`` if the build changed a row that was there before: only added
        rows are kept, so such a snapshot would not give back the built database.
        """
        with transaction.atomic():
            before = {model: rows_of(model) for model in _tables()}
            with TestCase.captureOnCommitCallbacks(execute=True):
                snapshot = cls(value=build())
            for model, old in before.items():
                new = rows_of(model)
                if new == old:
                    continue
                if old:
                    raise RuntimeError(
                        f"the build changed rows of {model._meta.db_table} that were there "
                        "before it; tests/demo.py keeps only the rows it adds"
                    )
                snapshot.rows[model] = new
            transaction.set_rollback(True)
        return snapshot

    def restore(self) -> None:
        """Insert the built rows into the current (empty, test) database.

        Rows go in as ``loaddata`` writes them (raw: no ``save()``, no signals, timestamps
        kept), in batches, in one transaction. Foreign keys are checked at its commit, or at a
        test's end (Django makes them deferrable), so tables go in any order; on PostgreSQL the
        id sequences then move past the rows, as ``loaddata`` does too.
        """
        with transaction.atomic():
            self._insert()

    def _insert(self) -> None:
        for model, rows in self.rows.items():
            fields = _fields(model)
            columns = [f.attname for f in fields]
            objs = [model(**dict(zip(columns, row, strict=True))) for row in rows]
            size = max(connection.ops.bulk_batch_size(fields, objs), 1)
            for start in range(0, len(objs), size):
                # The insert Model.save_base(raw=True) makes, which loaddata uses: a batch here.
                model._base_manager._insert(objs[start : start + size], fields=fields, raw=True)
        reset = connection.ops.sequence_reset_sql(no_style(), list(self.rows))
        if reset:
            with connection.cursor() as cursor:
                for sql in reset:
                    cursor.execute(sql)


def seed_demo() -> str:
    """Run ``seed_demo``; what it printed."""
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()
