from django.core.management.base import BaseCommand, CommandError

from voting.models import Round
from voting.pabulib import write
from voting.selectors.pabulib import round_to_pabulib


class Command(BaseCommand):
    help = "Write a yearly round as a Pabulib .pb file (to stdout, or to --output FILE)."

    def add_arguments(self, parser):
        parser.add_argument("round", type=int, help="the round's id")
        parser.add_argument("--output", "-o", help="file to write (default: stdout)")

    def handle(self, *args, round, output=None, **options):
        found = Round.objects.select_related("community", "envelope").filter(pk=round).first()
        if found is None:
            raise CommandError(f"No round with id {round}.")
        text = write(round_to_pabulib(found))
        if output:
            with open(output, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
            self.stderr.write(f"wrote {output}")
        else:
            self.stdout.write(text, ending="")
