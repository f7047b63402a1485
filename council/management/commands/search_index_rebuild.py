import time

from django.core.management.base import BaseCommand

from council.search import search_index_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the search index from scratch: every public proposal and published "
        "disclosure (hook search_documents), in one transaction."
    )

    def handle(self, *args, **options):
        started = time.perf_counter()
        total = search_index_rebuild()
        self.stdout.write(
            self.style.SUCCESS(
                f"OK: {total} documents indexed in {time.perf_counter() - started:.1f} s"
            )
        )
