import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from council.scheduler import log_tick, minute_jobs_run


class Command(BaseCommand):
    help = (
        "Run the minute jobs once: close ballots and rounds past their closing time, send "
        "reminders. A scheduler (cron, a systemd timer) runs it every minute; --loop runs it "
        "every minute itself (what `make run` does)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="repeat every --every seconds")
        parser.add_argument("--every", type=int, default=60)

    def handle(self, *args, loop=False, every=60, **options):
        next_minute = 0.0
        while True:
            if time.monotonic() >= next_minute:
                next_minute = time.monotonic() + max(1, every)
                figures = minute_jobs_run()
                done = ", ".join(f"{k} {v}" for k, v in sorted(figures.items()) if v)
                self.stdout.write(done or "nothing due")
            if not loop:
                return
            # Every second: events a writer's own integration missed join the tree, and the
            # witnesses are asked to cosign what grew (a second after it was signed at most).
            log_tick()
            close_old_connections()
            time.sleep(1)
