import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from council.evidence.sequencer import SEQUENCER_INTERVAL
from council.scheduler import log_tick, minute_jobs_run


class Command(BaseCommand):
    help = (
        "Run the minute jobs once: close ballots and rounds past their closing time, send "
        "reminders, place new evidence in the log. A scheduler (cron, a systemd timer) runs "
        "it every minute; --loop runs it every minute itself and the evidence log's sequencer "
        "several times a second (what `make run` and `bin/serve` do)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="repeat every --every seconds")
        parser.add_argument("--every", type=int, default=60)

    def handle(self, *args, loop=False, every=60, **options):
        next_minute = next_second = 0.0
        while True:
            now = time.monotonic()
            if now >= next_minute:
                next_minute = now + max(1, every)
                figures = minute_jobs_run()
                done = ", ".join(f"{k} {v}" for k, v in sorted(figures.items()) if v)
                self.stdout.write(done or "nothing due")
            if not loop:
                return
            # The evidence log's sequencer, several times a second: a committed act is in a
            # signed checkpoint within a fraction of a second; the witnesses are asked to
            # cosign once a second.
            log_tick(cosign=now >= next_second, files=False)
            if now >= next_second:
                next_second = now + 1
            close_old_connections()
            time.sleep(SEQUENCER_INTERVAL)
