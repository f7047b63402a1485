"""What the council app adds to its own hooks (``council.hooks``)."""

from . import evidence, hooks, scheduler, selectors, threads
from .home import followed_threads_section, notifications_section
from .notifications import email_tick


@hooks.register("evidence_action_labels")
def action_labels() -> dict:
    return {**evidence.ACTION_LABELS, **threads.ACTION_LABELS}


# Closing an account forgets how far the person read each thread.
hooks.register("personal_data_erasers", threads.thread_reads_erase)

# No request sends email: the minute scheduler does, after every other job (order 0), so that
# what they notified goes out in the same run.
hooks.register("minute_jobs", email_tick, order=100)


@hooks.register("personal_data_sections")
def personal_data(user) -> dict:
    """The council's own sections of a person's data export, before every other app's."""
    return {
        "account": selectors.personal_account(user),
        "consent": selectors.personal_consent(user),
        "private_data": selectors.personal_private_data(user),
        "roles": selectors.personal_roles(user),
        "thread_messages": selectors.personal_thread_messages(user),
        "message_reports": selectors.personal_message_reports(user),
        "notifications": selectors.personal_notifications(user),
        "evidence_log": selectors.personal_evidence(user),
    }


@hooks.register("evidence_object_names")
def object_names() -> dict:
    return {
        "council.role": selectors.evidence_names_of_roles,
        "council.user": selectors.evidence_names_of_accounts,
        "council.message": selectors.evidence_names_of_messages,
        "council.community": selectors.evidence_names_of_communities,
        "council.grid": selectors.evidence_names_of_grids,
        "council.council": selectors.evidence_names_of_councils,
    }


# A person's own page (我的): what awaits them (votes 10, evaluations 20) and their proposals
# (30) and co-signs (40) come from the apps above; the threads they follow and their
# notifications come last.
hooks.register("home_sections", followed_threads_section, order=50)
hooks.register("home_sections", notifications_section, order=60)
# A site run by cron (no --loop) still integrates and gathers cosignatures once a minute.
hooks.register("minute_jobs", scheduler.log_tick, order=-10)
