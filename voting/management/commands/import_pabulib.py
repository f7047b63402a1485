import datetime as dt

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from council import clock
from council.errors import InvalidMove, NotAllowed
from council.models import Community
from voting.pabulib import PabulibError, parse
from voting.services import round_import


class Command(BaseCommand):
    help = (
        "Open a yearly round from a Pabulib .pb file and record its votes as paper ballots: "
        "project ids are proposal ids of the community (in voting), voter ids the usernames "
        "of its seated members. Nothing is written if any line is refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--community", required=True, help="the community's slug")
        parser.add_argument("--clerk", required=True, help="username of the staff entering it")
        parser.add_argument("--hours", type=int, default=24, help="hours until it closes")

    def handle(self, *args, file, community, clerk, hours=24, **options):
        try:
            with open(file, encoding="utf-8") as handle:
                instance = parse(handle.read())
        except OSError as error:
            raise CommandError(str(error)) from error
        except PabulibError as error:
            raise CommandError(str(error)) from error
        place = Community.objects.filter(slug=community).first()
        actor = get_user_model().objects.filter(username=clerk).first()
        if place is None or actor is None:
            raise CommandError("Unknown community or clerk.")
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
