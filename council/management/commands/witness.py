from django.core.management.base import BaseCommand, CommandError

from council.tlog.witness import WitnessSetupError, add_arguments, run


class Command(BaseCommand):
    help = (
        "Run a transparency-log witness (C2SP tlog-witness): cosign each new checkpoint of the "
        "given logs whose consistency with the last one it cosigned is proven, refuse and "
        "record the others. Needs no database. --generate-key NAME --key FILE makes its key."
    )
    # The witness touches neither the database nor the site's settings beyond startup.
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        add_arguments(parser)

    def handle(self, *args, **options):
        try:
            run(options, self.stdout)
        except WitnessSetupError as error:
            raise CommandError(str(error), returncode=2) from None
