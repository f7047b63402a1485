from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from council.evidence.checkpoints import log_key_create, log_signer


class Command(BaseCommand):
    help = (
        "Print the evidence log's verifier key (publish it, and have people pin it), or with "
        "--create FILE make a new signing key for this site's log (LOG_ORIGIN) in FILE: keep "
        "FILE out of the database, the repository and the backups of either, and point "
        "LOG_SIGNING_KEY_FILE at it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--create", metavar="FILE", help="write a new signing key here")

    def handle(self, *args, create=None, **options):
        if create:
            path = Path(create)
            if path.exists():
                raise CommandError(f"{path} exists: a log keeps its key; remove it yourself first")
            self.stdout.write(log_key_create(path, settings.LOG_ORIGIN))
            return
        self.stdout.write(log_signer().vkey)
