"""Jobs the minute scheduler runs (``manage.py minutely``): closing ballots at their time,
reminders before deadlines, sending email. Apps above this one register theirs in
``AppConfig.ready``, so one command serves them all and this app imports none of them."""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

Job = Callable[[], dict[str, int]]
_JOBS: list[Job] = []
_LAST: list[Job] = []


def minute_job_register(job: Job, *, last: bool = False) -> Job:
    """Run ``job`` every minute; with ``last``, after the others (sending email: what the
    other jobs of the same run notified goes out in that run)."""
    jobs = _LAST if last else _JOBS
    if job not in jobs:
        jobs.append(job)
    return job


def minute_jobs_run() -> dict[str, int]:
    """Run every registered job once; one failing job does not stop the others."""
    figures: dict[str, int] = {}
    for job in [*_JOBS, *_LAST]:
        try:
            figures.update(job())
        except Exception:
            logger.exception("minute job %s failed", getattr(job, "__name__", job))
            figures[f"{getattr(job, '__name__', 'job')}_failed"] = 1
    return figures
