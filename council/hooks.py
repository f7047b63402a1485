"""Hooks: how an app adds to what an app below it does, without that app importing it.

Modelled on ``wagtail.hooks``. Calls go down, never up (council ← proposals ← voting ←
disclosure), so a lower app asks for "every ``minute_jobs`` hook" and the apps above register
theirs. Each installed app may have a ``weishi_hooks`` module holding all its registrations;
the first ``get_hooks`` imports every one of them, in ``INSTALLED_APPS`` order.

The hooks, and what a registered function is:

- ``evidence_action_labels``: ``() -> {action: label}``, what each evidence action means
  on the public evidence log.
- ``evidence_object_names``: ``() -> {model label: name(ids) -> {id: ObjectName}}``, how the
  public evidence log names the objects of one model (``"proposals.proposal"``): ``name`` gets
  the ids (strings) of one page's entries and reads them all in one query, so the page's query
  count does not grow with its entries. It returns a ``council.evidence.ObjectName`` (words,
  and a link or ``""``) for every id asked: an object nobody outside may see (a draft) gets
  words that neither link to it nor give its title, and a deleted one still gets words.
- ``evidence_actors_by_role_only``: ``() -> {action: hidden(payload) -> bool}``, actions whose
  actor the public log shows by role only when ``hidden`` holds (a secret ballot's "voted").
- ``evidence_documents``: ``(sha256 hex) -> seq | None``, the evidence event recording a
  published document (a PDF, a disclosure's content) with this SHA-256, for ``/log/lookup``.
- ``evidence_recorded``: ``(action, community_id) -> None``, told of every act the evidence
  log records, inside the transaction that makes it (``council.evidence.evidence_append``):
  for figures an app above keeps up to date (the statistics' cells), on commit.
- ``minute_jobs``: ``() -> {figure: count}``, run every minute by ``manage.py minutely``.
- ``proposal_panels``: ``(request, proposal) -> (template, context) | None``, a section of the
  proposal page.
- ``proposal_deadlines``: ``(proposals) -> {proposal_pk: {"by": datetime, "next": text,
  "who": text}}``, for proposals in stages an app above proposals decides (a ballot's closing
  time, a decision's publicity period, an evaluation window), when the current step of each is
  due and, if the app knows better than the lifecycle table, what happens next and who acts
  (every key optional). Called once for a whole list: a constant number of queries.
- ``home_sections``: ``(request) -> (template, context) | None``, a section of a signed-in
  person's own page (我的), lowest ``order`` first; a constant number of queries each.
- ``followed_threads``: ``(user) -> QuerySet`` of thread ids (``values("thread_id")``): the
  threads a person follows because of what they are about (a proposal they wrote, co-signed or
  follow), beside those they posted in.
- ``personal_data_sections``: ``(user) -> {name: data}``, sections of a person's data export.
- ``personal_data_erasers``: ``(user) -> None``, what closing an account deletes.
- ``search_documents``: ``() -> iterable of council.search.SearchDocument``, every public
  object of the app, when the search index is rebuilt (``manage.py search_index_rebuild``).
- ``demo_deciders``: ``() -> {move: decider(proposal, staff) -> proposal}``, how the demo takes
  a decisive step for real. Registered with ``register_lazy``: demo code is imported when the
  demo is seeded, never at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter

from django.utils.module_loading import autodiscover_modules, import_string

_hooks: dict[str, list[tuple[Callable, int]]] = {}
_searched_for_hooks = False


def register(hook_name: str, fn: Callable | None = None, order: int = 0):
    """Add ``fn`` to the hook ``hook_name``; without ``fn``, a decorator that does.

    ``get_hooks`` returns lower ``order`` first; equal orders keep the order of registration
    (``INSTALLED_APPS``, then the order within a ``weishi_hooks`` module).
    """
    if fn is None:

        def decorator(fn: Callable) -> Callable:
            register(hook_name, fn, order=order)
            return fn

        return decorator
    _hooks.setdefault(hook_name, []).append((fn, order))
    return fn


def register_lazy(hook_name: str, dotted_path: str, order: int = 0) -> Callable:
    """Add the function at ``dotted_path`` to ``hook_name``, imported only when the hook is
    called: what must not load at start-up (demo code) registers this way."""

    def call(*args, **kwargs):
        return import_string(dotted_path)(*args, **kwargs)

    call.__name__ = call.__qualname__ = dotted_path
    return register(hook_name, call, order=order)


def search_for_hooks() -> None:
    """Import every installed app's ``weishi_hooks`` module, once."""
    global _searched_for_hooks
    if not _searched_for_hooks:
        autodiscover_modules("weishi_hooks")
        _searched_for_hooks = True


def get_hooks(hook_name: str) -> list[Callable]:
    """Every function registered for ``hook_name``, in order (see ``register``)."""
    search_for_hooks()
    return [fn for fn, _order in sorted(_hooks.get(hook_name, []), key=itemgetter(1))]
