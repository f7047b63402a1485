import datetime as dt

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from council import clock
from council.errors import InvalidMove, NotAllowed
from council.models import Community
from voting.pabulib import ROUND, PabulibError, read
from voting.services import round_import


class Command(BaseCommand):
    help = (
        "Open a yearly round from a Pabulib .pb file and record its votes as paper ballots: "
        "project ids are proposal ids of the community (in voting), voter ids the usernames "
        "of its seated members. At most 1 MB, 200 projects and 1,000 votes. Nothing is "
        "written if any line is refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--community", required=True, help="the community's slug")
        parser.add_argument("--clerk", required=True, help="username of the staff entering it")
        parser.add_argument("--hours", type=int, default=24, help="hours until it closes")

    def handle(self, *args, file, community, clerk, hours=24, **options):
        # The whole file is read and checked before anything is written; round_import then
        # writes it in one transaction, or nothing.
        try:
            instance = read(file, ROUND)
        except OSError as error:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s")
                % {"file": file, "error": error.strerror or error}
            ) from error
        except PabulibError as error:
            raise CommandError(str(error)) from error
        place = Community.objects.filter(slug=community).first()
        actor = get_user_model().objects.filter(username=clerk).first()
        if place is None or actor is None:
            raise CommandError(_("Unknown community or clerk."))
        try:
            round_ = round_import(
                actor=actor,
                community=place,
                instance=instance,
                closes_at=clock.now() + dt.timedelta(hours=hours),
            )
        except (InvalidMove, NotAllowed) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"round {round_.pk}: {round_.ballots.count()} ballots recorded")
