from django.core.management.base import BaseCommand

from council.notifications import send_digests


class Command(BaseCommand):
    help = "Email each daily-digest subscriber their notifications not yet emailed (run daily)."

    def handle(self, *args, **options):
        self.stdout.write(f"{send_digests()} digest(s) sent")
