"""Every write of the disclosure app. Split by subject; import from here."""

from .implementation import ImportReport, progress_import_csv, progress_post
from .publishing import (
    decision_draft,
    decisions_draft_due,
    disclosure_correct,
    disclosure_publish,
    implementation_draft,
    implementations_start_due,
    objection_answer,
    objection_lodge,
    result_draft,
    unanswered_objections,
)
from .results import (
    completion_record,
    evaluation_enter_paper,
    evaluation_give,
    variance_needs_explanation,
    window_close,
    windows_close_due,
    windows_remind,
)
from .statistics import (
    statistics_rebuild,
    statistics_refresh,
    statistics_refresh_after,
    statistics_sweep,
)


def disclosure_tick() -> dict[str, int]:
    """What the minute scheduler runs for disclosures."""
    return {
        "decisions_drafted": decisions_draft_due(),
        "implementations_started": implementations_start_due(),
        "evaluation_windows_closed": windows_close_due(),
        "evaluation_reminders": windows_remind(),
        # After the acts above: their own refreshes have run by then.
        "statistics_cells_swept": statistics_sweep(),
    }


__all__ = [
    "ImportReport",
    "completion_record",
    "decision_draft",
    "decisions_draft_due",
    "disclosure_correct",
    "disclosure_publish",
    "disclosure_tick",
    "evaluation_enter_paper",
    "evaluation_give",
    "implementation_draft",
    "implementations_start_due",
    "objection_answer",
    "objection_lodge",
    "progress_import_csv",
    "progress_post",
    "result_draft",
    "unanswered_objections",
    "variance_needs_explanation",
    "statistics_rebuild",
    "statistics_refresh",
    "statistics_refresh_after",
    "statistics_sweep",
    "window_close",
    "windows_close_due",
    "windows_remind",
]
