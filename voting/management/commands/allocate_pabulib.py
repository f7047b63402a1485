"""``manage.py allocate_pabulib FILE --rule greedy|mes [--completion add1|none]``.

Recomputes a round from a Pabulib file, e.g. one exported by Weishi or downloaded from
pabulib.org, and prints the funded project ids, one per line (greedy: in the order funded;
Equal Shares: in the order its last run selected them). Reads no database, so it runs on a
checkout that was never migrated: it imports no model, and skips the system checks.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from voting.allocation import COMPLETIONS, equal_shares, greedy
from voting.pabulib import RESEARCH, PabulibError, read


class Command(BaseCommand):
    help = "Print the project ids a funding rule funds in a Pabulib (.pb) file, one per line."
    requires_system_checks = []  # the checks would look at models and settings never used here

    def add_arguments(self, parser):
        parser.add_argument(
            "file",
            help="a Pabulib .pb file (UTF-8; at most 64 MB, 10,000 projects, 1,000,000 votes)",
        )
        parser.add_argument(
            "--rule", required=True, choices=["greedy", "mes"], help="greedy, or Equal Shares"
        )
        parser.add_argument(
            "--completion",
            choices=COMPLETIONS,
            default="add1",
            help="Equal Shares only: add1 (default) raises every voter's share 1 yuan at a "
            "time while the outcome fits; none runs the plain method",
        )

    def handle(self, *args, file, rule, completion, **options):
        try:
            instance = read(file, RESEARCH)
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s") % {"file": file, "error": exc.strerror or exc}
            ) from exc
        except PabulibError as exc:
            raise CommandError(str(exc)) from exc
        try:
            projects, ballots, budget = instance.to_allocation()
        except PabulibError as exc:
            raise CommandError(str(exc)) from exc
        if rule == "greedy":
            funded = greedy(projects, ballots, budget)
        else:
            funded = equal_shares(projects, ballots, budget, completion)
        for project_id in funded:
            self.stdout.write(project_id)
