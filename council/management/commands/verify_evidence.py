from django.core.management.base import BaseCommand, CommandError

from council.evidence import evidence_verify


class Command(BaseCommand):
    help = "Verify the evidence log's hash chain; exit non-zero at the first broken link."

    def handle(self, *args, **options):
        result = evidence_verify()
        if not result.ok:
            raise CommandError(
                f"BROKEN at event #{result.broken_at}: {result.reason} "
                f"({result.checked} events verified before it)",
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(f"OK: {result.checked} events verified; head {result.head_hash}")
        )
