"""Jobs the minute scheduler runs (``manage.py minutely``): closing ballots at their time,
reminders before deadlines, sending email. Every app registers its own as a ``minute_jobs``
hook (``council.hooks``), so one command serves them all and this app imports none of them."""

from __future__ import annotations

import logging

from .hooks import get_hooks

logger = logging.getLogger(__name__)


def minute_jobs_run() -> dict[str, int]:
    """Run every ``minute_jobs`` hook once, in hook order (sending email last); one failing
    job does not stop the others."""
    figures: dict[str, int] = {}
    for job in get_hooks("minute_jobs"):
        try:
            figures.update(job())
        except Exception:
            logger.exception("minute job %s failed", getattr(job, "__name__", job))
            figures[f"{getattr(job, '__name__', 'job')}_failed"] = 1
    return figures


def log_tick() -> dict[str, int]:
    """The evidence log's second: integrate what is committed, gather cosignatures. Failures
    are logged; the next tick tries again."""
    from .evidence import cosignatures_gather, evidence_integrate

    try:
        return {"evidence_integrated": evidence_integrate(), **cosignatures_gather()}
    except Exception:
        logger.exception("the evidence log's tick failed")
        return {"evidence_tick_failed": 1}
