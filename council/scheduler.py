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


def log_tick(*, cosign: bool = True, files: bool = True) -> dict[str, int]:
    """The evidence log's tick: integrate what is committed, (``cosign``) gather the
    witnesses' cosignatures, and (``files``) write any full tile a failed write left missing.
    Failures are logged; the next tick tries again."""
    from .evidence import cosignatures_gather, evidence_integrate, log_head
    from .evidence.sequencer import tile_files_write

    try:
        figures = {"evidence_integrated": evidence_integrate(wait=False)}
        if cosign:
            figures.update(cosignatures_gather())
        if files:
            figures["log_files_written"] = tile_files_write(log_head()[0])
        return figures
    except Exception:
        logger.exception("the evidence log's tick failed")
        return {"evidence_tick_failed": 1}
