"""Thread fragments, from the partials of ``council/thread.html``.

The page and the WebSocket consumer use the same partials: the page through
``thread_context``, the consumer through the ``render_*`` functions, each of which renders in
the viewer's language with the viewer's own controls (edit, delete, hide, report). These are
synchronous (they read the database); the consumer calls them through
``database_sync_to_async``.

Broadcasts carry their fragments already rendered (``message_broadcast``,
``presence_broadcast``): a message once per *audience* — a language and what the message's
controls vary on (``Audience``: may reply, may report, may hide), plus its author's own
rendering (edit, delete) — so that a connection only picks its audience's fragment
(``fragment_for``) and a thread of a thousand readers costs a few renderings — of the
audiences that have readers, at most ten — not a thousand.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http.cookie import parse_cookie
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.functional import empty

from . import clock, selectors, threads
from .models import Thread
from .params import whole_number
from .realtime import MAX_FRAME_BYTES

TEMPLATE = "council/thread.html"

# Fragments that are the same for many connections of one process — a message as every
# anonymous reader in one language sees it, the presence line — are rendered once and reused
# for a moment, so a broadcast to hundreds of readers costs one render per language, not one
# per connection. Keys carry the event's version, so a later change is never served stale.
SHARED_TTL = 2.0
_shared: dict[tuple, tuple[float, str]] = {}


def _shared_render(key: tuple, build) -> str:
    now = time.monotonic()
    hit = _shared.get(key)
    if hit is not None and now - hit[0] < SHARED_TTL:
        return hit[1]
    html = build()
    if len(_shared) > 1000:
        for old in [k for k, (at, _html) in _shared.items() if now - at >= SHARED_TTL]:
            _shared.pop(old, None)
    _shared[key] = (now, html)
    return html


@dataclass
class Viewer:
    """Who a connection renders for: the user, their language and their CSRF token (so the
    plain forms inside a fragment still work if the socket is gone)."""

    user: object
    language: str = settings.LANGUAGE_CODE
    csrf_token: str = ""


def _cookies(scope) -> dict:
    header = _header(scope, b"cookie")
    return parse_cookie(header) if header else {}


def _header(scope, wanted: bytes) -> str:
    for name, value in scope.get("headers", []):
        if name == wanted:
            return value.decode("latin1")
    return ""


def _supported(code: str) -> str | None:
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def viewer_language(scope, user) -> str:
    """The language cookie, else Accept-Language, else the user's own, else Chinese."""
    from django.utils.translation.trans_real import parse_accept_lang_header

    cookie = _cookies(scope).get(settings.LANGUAGE_COOKIE_NAME)
    if cookie and _supported(cookie):
        return _supported(cookie)
    for code, _q in parse_accept_lang_header(_header(scope, b"accept-language")):
        if code != "*" and _supported(code):
            return _supported(code)
    language = getattr(user, "language", "") if user and user.is_authenticated else ""
    return _supported(language) if language and _supported(language) else settings.LANGUAGE_CODE


def viewer_for(scope) -> Viewer:
    """The viewer of a WebSocket connection (no database access: the user is loaded)."""
    user = scope.get("user") or AnonymousUser()
    # The real user, not the lazy wrapper: ``rules.forget_roles`` clears the roles cached on
    # the object itself, so that a removed role counts from the very next frame.
    wrapped = getattr(user, "_wrapped", empty)
    if wrapped is not empty:
        user = wrapped
    token = _cookies(scope).get(settings.CSRF_COOKIE_NAME, "")
    if token:
        from django.middleware.csrf import _mask_cipher_secret

        try:
            token = _mask_cipher_secret(token)
        except Exception:  # noqa: BLE001 - a bad cookie gives no token
            token = ""
    return Viewer(user=user, language=viewer_language(scope, user), csrf_token=token)


# --- Context ------------------------------------------------------------------------------------


def _perms(user, thread: Thread) -> dict:
    post = user.has_perm("council.post_in_thread", thread)
    ban = None
    if not post and thread.is_open and user.is_authenticated:
        ban = threads.posting_ban_of(thread.community_id, user)
    return {
        "post": post,
        # Why a barred person may not post (the reason and the end), shown for the composer.
        "banned": threads.banned_text(ban) if ban is not None else "",
        "official": user.has_perm("council.post_official", thread),
        "moderate": user.has_perm("council.hide_message", thread),
        "report": user.has_perm("council.report_message", thread),
        # Signed up, not yet confirmed: told posting opens once confirmed.
        "awaiting": thread.is_open and user.has_perm("council.await_confirmation", thread),
    }


def _decorate(user, thread: Thread, perms: dict, messages) -> list:
    """Mark on each message what this viewer may do with it."""
    now = clock.now()
    for message in messages:
        gone = bool(message.deleted_at or message.hidden_at)
        own = user.is_authenticated and message.author_id == user.pk
        message.can_delete = own and not gone
        message.can_edit = (
            message.can_delete
            and thread.is_open
            and now - message.created_at <= threads.EDIT_WINDOW
        )
        message.can_hide = perms["moderate"] and not message.hidden_at and not message.deleted_at
        message.can_report = perms["report"] and not own and not gone
        message.can_reply = perms["post"] and not gone
    return messages


def _nested(messages: list) -> list:
    """The top-level messages, in order, each with its ``thread_replies`` in order: a reply is
    shown under the message it answers, or under that one's own top-level message."""
    top = {m.pk: m for m in messages if m.reply_to_id is None}
    for message in messages:
        message.thread_replies = []
    shown = []
    for message in messages:
        parent = top.get(message.reply_to_id)
        if parent is None:
            shown.append(message)
        else:
            parent.thread_replies.append(message)
    return shown


def _without_reply(url: str) -> str:
    """``url`` without its ``reply`` parameter: back on the page, the composer starts afresh."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "reply"]
    return urlunsplit(parts._replace(query=urlencode(query)))


def thread_context(
    user, thread: Thread, *, next_url: str = "", reply_to=None, before: int | None = None
) -> dict:
    """What the ``thread`` partial needs, for a page. ``thread`` must be readable by ``user``.

    The page shows the newest messages (``selectors.thread_window``), or those before message
    ``before``; ``thread_earlier`` loads the ones before them. ``reply_to`` (a message id from
    the page's address, the 「回复」 link without JavaScript) opens the composer as a reply to
    that message, if this user may answer it, shown or not."""
    perms = _perms(user, thread)
    window = selectors.thread_window(thread, before=before)
    messages = _decorate(user, thread, perms, window.messages)
    wanted = whole_number(reply_to, minimum=1) if reply_to else None
    target = next((m for m in messages if m.pk == wanted), None)
    if wanted is not None and target is None:
        # An earlier message, not in this window: read it alone (only when asked for).
        found = selectors.message_for(wanted)
        if found is not None and found.thread_id == thread.pk:
            target = _decorate(user, thread, perms, [found])[0]
    return {
        "thread": thread,
        "thread_messages": _nested(messages),
        "thread_last": max((m.pk for m in messages), default=None),
        "thread_earlier": window.earlier,
        "thread_perms": perms,
        "presence": selectors.presence_of(thread.pk),
        "thread_next": _without_reply(next_url),
        "reply_target": target if target is not None and target.can_reply else None,
    }


def _render(viewer: Viewer, partial: str, context: dict) -> str:
    with translation.override(viewer.language):
        return render_to_string(
            f"{TEMPLATE}#{partial}",
            {"user": viewer.user, "csrf_token": viewer.csrf_token, "oob": True, **context},
        )


# --- Fragments rendered once, for every reader of a broadcast -------------------------------------


# What a message's controls depend on, besides the message: whether the viewer may reply
# (post), report and hide (moderate). Edit and delete are the author's own (``OWN``).
@dataclass(frozen=True)
class Audience:
    post: bool = False
    report: bool = False
    moderate: bool = False

    @property
    def key(self) -> str:
        flags = (("p", self.post), ("r", self.report), ("m", self.moderate))
        return "".join(letter for letter, on in flags if on) or "-"


ANONYMOUS = Audience()
OWN = "own"

# Rendered in place of the viewer's CSRF token; a connection puts its own in (``fragment_for``).
# The whole tag is replaced: user text cannot hold an <input> (the sanitiser drops it).
CSRF_SLOT = "csrf-slot-of-this-connection"
_CSRF_TAG = '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'

# A broadcast whose fragments would exceed this goes with ids only (each connection renders
# for itself); a 4,000-character message in ten renderings stays far below it.
MAX_BROADCAST_HTML = 1024 * 1024


def audience_of(user, thread: Thread) -> Audience:
    """The audience ``user`` belongs to in ``thread`` (no query for an anonymous reader)."""
    if not user.is_authenticated:
        return ANONYMOUS
    return Audience(
        post=user.has_perm("council.post_in_thread", thread),
        report=user.has_perm("council.report_message", thread),
        moderate=user.has_perm("council.hide_message", thread),
    )


def connection_audience(user, thread_id: int) -> Audience | None:
    """What a connection needs to know once: its audience in the thread, or None if the
    thread is missing or not readable by ``user``."""
    thread = selectors.thread_for(user, thread_id)
    return None if thread is None else audience_of(user, thread)


def broadcast_audiences(thread: Thread) -> set[Audience]:
    """The audiences a message of ``thread`` is rendered for: anonymous readers, signed-in
    readers who may not post, those who may, and the community's staff. Any other (staff of
    a private thread who live elsewhere) renders for itself."""
    is_open = thread.is_open
    return {
        ANONYMOUS,
        Audience(report=thread.is_public),
        Audience(post=is_open, report=True),
        Audience(post=is_open, report=True, moderate=True),
    }


def fragment_key(language: str, audience: Audience | str) -> str:
    return f"{language}/{audience if isinstance(audience, str) else audience.key}"


# Which audiences have readers in a thread, kept in the cache (Redis: every process's) by
# each process's presence relay (``council.consumers.PresenceRelay``: when its first reader of
# an audience arrives, and at each write of pings). A broadcast renders those only; an
# audience not yet listed renders for itself (once per process: ``audience_fragment``).
# Long-lived: a listed audience whose readers have gone costs one rendering too many.
AUDIENCE_TTL = 3600
_ALL_AUDIENCES = [
    Audience(post, report, moderate)
    for post in (False, True)
    for report in (False, True)
    for moderate in (False, True)
]


def _audience_cache_key(thread_id: int, key: str) -> str:
    return f"thread-audience:{thread_id}:{key}"


def audiences_note(thread_id: int, keys) -> None:
    """Note that readers of the fragment ``keys`` (``fragment_key``) are in ``thread_id``."""
    if keys:
        cache.set_many(
            {_audience_cache_key(thread_id, key): 1 for key in keys}, timeout=AUDIENCE_TTL
        )


def audiences_present(thread_id: int) -> set[str]:
    """The fragment keys noted for ``thread_id`` (one cache round trip)."""
    keys = [fragment_key(lang, a) for lang in _languages() for a in _ALL_AUDIENCES]
    found = cache.get_many([_audience_cache_key(thread_id, key) for key in keys])
    return {key for key in keys if _audience_cache_key(thread_id, key) in found}


def _languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def _fragments(renders: dict[str, str]) -> dict:
    """``{"fragments": {key: index}, "html": [...]}``: equal renderings sent once."""
    html: list[str] = []
    index: dict[str, int] = {}
    keys = {}
    for key, text in renders.items():
        if text not in index:
            index[text] = len(html)
            html.append(text)
        keys[key] = index[text]
    if sum(len(text) for text in html) > MAX_BROADCAST_HTML:
        return {}
    return {"fragments": keys, "html": html}


def _languages_read(thread_id: int) -> list[str]:
    present = audiences_present(thread_id)
    read = [lang for lang in _languages() if any(k.startswith(f"{lang}/") for k in present)]
    return read or _languages()


def message_broadcast(message_id: int, change: str = "new") -> dict:
    """A message's fragment (a "new message" or "changed message" frame, as
    ``render_message`` makes it) for each audience of ``broadcast_audiences`` that has
    readers (``audiences_present``), in their language, and for its author (``OWN``) in the
    languages read: the keys the broadcast adds (``fragments``, ``html``, ``author``).
    Empty if the message is gone. A fixed number of queries and one cache read."""
    message = selectors.message_for(message_id)
    if message is None:
        return {}
    thread = message.thread
    present = audiences_present(thread.pk)
    languages = [lang for lang in _languages() if any(k.startswith(f"{lang}/") for k in present)]
    nobody = AnonymousUser()
    renders = {}
    for audience in sorted(broadcast_audiences(thread), key=lambda a: a.key):
        wanted = [lang for lang in languages if fragment_key(lang, audience) in present]
        if wanted:
            _decorate(nobody, thread, _flags(audience), [message])
            for language in wanted:
                renders[fragment_key(language, audience)] = _fragment(
                    nobody, language, thread, message, audience, change
                )
    author = message.author
    if author.is_active and languages:
        own = audience_of(author, thread)
        _decorate(author, thread, _flags(own), [message])
        for language in languages:
            renders[fragment_key(language, OWN)] = _fragment(
                author, language, thread, message, own, change
            )
    return {"author": message.author_id, **_fragments(renders)}


def _flags(audience: Audience) -> dict:
    return {"post": audience.post, "report": audience.report, "moderate": audience.moderate}


def _fragment(user, language, thread, message, audience, change) -> str:
    """``message`` (already ``_decorate``d for ``audience``) as a frame, with the CSRF slot."""
    partial = "message_new" if change == "new" else "message"
    context = {"thread": thread, "message": message, "thread_perms": _flags(audience)}
    return _render(Viewer(user, language, CSRF_SLOT), partial, context)


def audience_fragment(
    message_id: int, change: str, version, language: str, audience: Audience, author
) -> str:
    """One audience's fragment of a broadcast that came without it (its readers arrived a
    moment ago, or its rendering failed), with the CSRF slot: rendered once per process and
    change, shared by the connections of that audience. ``author``: the message's author,
    for their own rendering, else None. Empty if the message is gone."""

    def build() -> str:
        message = selectors.message_for(message_id)
        if message is None:
            return ""
        user = author if author is not None else AnonymousUser()
        _decorate(user, message.thread, _flags(audience), [message])
        return _fragment(user, language, message.thread, message, audience, change)

    own = OWN if author is not None else audience.key
    return _shared_render(("message", message_id, change, version, language, own), build)


def with_csrf(html: str, csrf_token: str) -> str:
    """``html`` with a connection's CSRF token in place of the slot it was rendered with."""
    if CSRF_SLOT not in html:
        return html
    return html.replace(
        _CSRF_TAG.format(CSRF_SLOT), _CSRF_TAG.format(csrf_token) if csrf_token else ""
    )


def presence_broadcast(thread_id: int) -> dict:
    """Who is viewing, read once and rendered in each language read (``audiences_present``;
    every language if none is noted): the keys the presence broadcast adds (``html``:
    language → fragment; ``version``, when it was read). The line is the same for every
    viewer."""
    version = time.time()  # before the read: a later read has a larger one
    presence = selectors.presence_of(thread_id)
    context = {"thread": Thread(pk=thread_id), "presence": presence}
    return {
        "version": version,
        "html": {
            language: _render(Viewer(AnonymousUser(), language), "presence", context)
            for language in _languages_read(thread_id)
        },
    }


def fragment_for(event: dict, language: str, audience: Audience, user_id, csrf_token: str):
    """The fragment of a broadcast (``message_broadcast``) for one connection, with its CSRF
    token put in; None if the broadcast has none for it (the connection renders then).
    No database access."""
    fragments = event.get("fragments")
    if not fragments:
        return None
    own = user_id is not None and user_id == event.get("author")
    index = fragments.get(fragment_key(language, OWN if own else audience))
    if index is None:
        return None
    return with_csrf(event["html"][index], csrf_token)


# --- Fragments for a connection ------------------------------------------------------------------


def render_message(viewer: Viewer, message_id: int, change: str = "new", version=None) -> str:
    """A message as a "new message" frame (appended) or a "changed message" frame (replaced);
    empty if the viewer may no longer read the thread or the message is gone. Anonymous
    readers share one rendering per language and ``version`` of the change."""
    if not viewer.user.is_authenticated and version is not None:
        return _shared_render(
            ("message", message_id, change, version, viewer.language),
            lambda: _render_message(viewer, message_id, change),
        )
    return _render_message(viewer, message_id, change)


def _render_message(viewer: Viewer, message_id: int, change: str) -> str:
    message = selectors.message_for(message_id)
    if message is None:
        return ""
    thread = selectors.thread_for(viewer.user, message.thread_id)
    if thread is None:
        return ""
    perms = _perms(viewer.user, thread)
    _decorate(viewer.user, thread, perms, [message])
    partial = "message_new" if change == "new" else "message"
    return _render(viewer, partial, {"thread": thread, "message": message, "thread_perms": perms})


def render_missed(viewer: Viewer, thread_id: int, after: int) -> tuple[list[str], int]:
    """The messages after ``after``, in order, each as a "new message" frame, and the id of
    the last of them (``after`` when there are none)."""
    thread = selectors.thread_for(viewer.user, thread_id)
    if thread is None:
        return [], after
    perms = _perms(viewer.user, thread)
    missed = _decorate(viewer.user, thread, perms, selectors.thread_messages(thread, after=after))
    frames = [
        _render(viewer, "message_new", {"thread": thread, "message": m, "thread_perms": perms})
        for m in missed
    ]
    return frames, missed[-1].pk if missed else after


def render_presence(viewer: Viewer, thread_id: int, version=None) -> str:
    """Who is viewing: the same for every viewer of one language, so shared between the
    connections that answer the same change (``version``)."""
    return _shared_render(
        ("presence", thread_id, version or time.monotonic(), viewer.language),
        lambda: _render(
            viewer,
            "presence",
            {"thread": Thread(pk=thread_id), "presence": selectors.presence_of(thread_id)},
        ),
    )


def render_state(viewer: Viewer, thread_id: int, version=None) -> str:
    """The open/closed line and the composer, after the thread was opened or closed.
    Anonymous readers share one rendering per language and ``version`` of the change: a
    thread closed at a meeting followed by a thousand is rendered once per process, not once
    per reader."""
    if not viewer.user.is_authenticated and version is not None:
        return _shared_render(
            ("state", thread_id, version, viewer.language),
            lambda: _render_state(viewer, thread_id),
        )
    return _render_state(viewer, thread_id)


def _render_state(viewer: Viewer, thread_id: int) -> str:
    thread = selectors.thread_for(viewer.user, thread_id)
    if thread is None:
        return ""
    context = {"thread": thread, "thread_perms": _perms(viewer.user, thread)}
    return _render(viewer, "state", context) + _render(viewer, "composer", context)


def render_composer(viewer: Viewer, thread_id: int) -> str:
    """The composer, emptied (after a successful post), with the error region cleared."""
    thread = selectors.thread_for(viewer.user, thread_id)
    if thread is None:
        return ""
    context = {"thread": thread, "thread_perms": _perms(viewer.user, thread)}
    return _render(viewer, "composer", context) + render_error(viewer.language, thread_id)


def render_error(language: str, thread_id: int, code: str = "", text: str = "", *, ok=False) -> str:
    """The error region: a refusal with its code, a confirmation (``ok``), or empty."""
    with translation.override(language):
        return render_to_string(
            f"{TEMPLATE}#errors",
            {
                "thread": Thread(pk=thread_id),
                "oob": True,
                "error_code": code,
                "error_text": text,
                "ok": ok,
            },
        )


def error_text(language: str, code: str) -> str:
    """The message of a refusal the consumer finds itself (not a service's)."""
    messages = {
        "malformed": translation.gettext_lazy("That request could not be understood."),
        "unknown_action": translation.gettext_lazy("Unknown action."),
        "invalid": translation.gettext_lazy("That request is not valid."),
        "too_large": translation.gettext_lazy(
            "That request is too large to be read (at most %(kb)d KB)."
        ),
        "too_deep": translation.gettext_lazy("That request is nested too deeply to be read."),
        "bad_number": translation.gettext_lazy("That request holds a number out of range."),
        "unavailable": translation.gettext_lazy(
            "Live updates are paused for a moment. This page reconnects by itself and then "
            "shows what you missed; what you post meanwhile is saved."
        ),
    }
    with translation.override(language):
        text = str(messages.get(code, messages["invalid"]))
    return text % {"kb": MAX_FRAME_BYTES // 1024} if code == "too_large" else text


def in_language(language: str, function, *args, **kwargs):
    """Call ``function`` with ``language`` active, so a refusal speaks the viewer's language."""
    with translation.override(language):
        return function(*args, **kwargs)
