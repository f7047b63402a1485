"""``manage.py statistics_rebuild``: the statistics' cells of every community, read again from
the rows. The services keep them up to date as they change; this is for a database filled by
other means (an upgrade from before the cells, a bulk import) or after a refresh that failed.
``bin/serve`` runs it at every start."""

import time

from django.core.management.base import BaseCommand

from disclosure.services import statistics_rebuild


class Command(BaseCommand):
    help = "Rebuild every community's statistics cells from the proposals, windows and projects."

    def handle(self, *args, **options):
        started = time.perf_counter()
        communities = statistics_rebuild()
        self.stdout.write(
            f"Statistics of {communities} communities rebuilt in "
            f"{time.perf_counter() - started:.1f} s."
        )
