"""Fault-injection load test: the site under load while a worker is killed and Redis is stopped.

Run from the repository root::

    .venv/bin/python bench/faults.py [--seconds 60] [--concurrency 200] [--out DIR]

It builds the production shape on this machine, on ports of its own: a PostgreSQL database
(``DATABASE_URL``, default ``weishi_bench_faults`` on 127.0.0.1:5432; the name must contain
``bench``: it is dropped and re-created, migrated and loaded with ``seed_demo``), **its own
redis-server** on a free port (never a shared one: the run stops it), ``bin/serve 2`` (two
page workers, two WebSocket workers and the minute scheduler) and nginx running
``deploy/nginx.conf`` in front of them over TLS, as ``tests/load/test_two_processes.py`` does.
Everything goes through nginx, as a browser's requests would: what the test measures is what
residents would see, and nginx passing requests from a dead worker to the live one is part of
it.

``--concurrency`` clients (default 200) each keep one request in flight, without pause, for
``--seconds`` (default 60), over keep-alive TLS connections:

* anonymous readers request public pages: home, community, proposal lists, proposal pages,
  disclosures, project pages, the evidence log, open data;
* ``--posters`` residents (default 8, spread over the open consultation threads) post
  thread messages with the plain form (POST, then the page it redirects to, which says
  whether the message was posted or the person is posting too fast);
* ``--voters`` council members (default 20) vote on an open ballot, changing their vote
  each time (htmx POSTs, as ``bench/votes.py`` does);
* ``--readers`` anonymous WebSocket readers (default 4) follow the threads, reconnecting with
  a growing pause and resuming after the last message they saw, as the page's script does.

At ``--kill-at`` (default a quarter of the run) the second page worker (gunicorn's master;
its orphaned worker process serves on until it sees its parent gone, up to 30 s) is killed
with ``kill -9``;
a probe asks it for ``/`` directly every 0.1 s until it answers again, and another probe asks
the first worker every 0.25 s. At ``--redis-at`` (default half the run) Redis is stopped for
``--redis-down`` seconds (default a third of the run), then started again, empty; with
``--redis-pause`` it is paused instead (``SIGSTOP``: a hung server, which accepts connections
and answers nothing), then resumed with its data.

Then, with the servers stopped, it checks through the ORM that nothing acknowledged was lost
(every thread message a poster was told was posted is stored; each member's stored vote is the
last one they were told was recorded, or a later one whose answer never came) and that the
evidence chain verifies, prints the figures and exits 1 if any criterion failed (see
``bench/README.md`` for the table and the exact definitions, "blank body" included).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import html
import http.client
import itertools
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from _harness import (
    BENCH_DIR,
    HOST,
    bench_env,
    database_name,
    database_recreate,
    fail,
    free_port,
    http_request,
    main_run,
    manage,
    progress,
    quantile,
    server_errors,
    shell_json,
    site_start,
    table,
)
from votes import SETUP as VOTES_SETUP

KILL_SETTLES = 1.0  # seconds after a kill -9 during which a POST may still reach the dying worker
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/weishi_bench_faults"
CLOSE_REASON = "故障演练：换一轮新的表决（bench/faults.py）"
RECOVERY_LIMIT = 10.0  # seconds: the killed worker must answer again within this
CHOICES = ("yes", "no", "abstain")
TIMEOUT = 30  # seconds for one request's connect, send or read
PAGE_WEIGHTS = {
    "home": 10,
    "community": 5,
    "proposal list": 10,
    "proposal": 30,
    "disclosure": 15,
    "project": 10,
    "evidence": 10,
    "open data": 10,
}


# `manage.py shell -c`, after bench/votes.py's SETUP: residents who may post in each open
# consultation thread (not staff, not the voters), one signed-in session each, and the texts
# a page shows after a post (posted / too fast), in both languages.
POSTERS = """\
import json
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db.models import Max
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from council import threads
from council.models import Message, User
from proposals.models import Proposal, Stage

PER_THREAD = __PER_THREAD__
EXCLUDE = set(__EXCLUDE__)
BACKEND = "django.contrib.auth.backends.ModelBackend"
store = import_module(settings.SESSION_ENGINE).SessionStore
proposals = (
    Proposal.objects.filter(stage=Stage.CONSULTATION, thread__isnull=False, thread__is_open=True)
    .select_related("community", "thread")
    .order_by("pk")
)
posters, readers = [], []
for proposal in proposals:
    thread = proposal.thread
    page = reverse("proposal", kwargs={"slug": proposal.community.slug, "pk": proposal.pk})
    last = Message.objects.filter(thread=thread).aggregate(m=Max("pk"))["m"] or 0
    readers.append({"thread": thread.pk, "last": last})
    chosen = 0
    for user in User.objects.filter(is_active=True).order_by("username"):
        if chosen == PER_THREAD:
            break
        if user.pk in EXCLUDE or not user.has_perm("council.post_in_thread", thread):
            continue
        if user.has_perm("council.post_official", thread):
            continue  # staff: the posters are residents
        session = store()
        session[SESSION_KEY] = user._meta.pk.value_to_string(user)
        session[BACKEND_SESSION_KEY] = BACKEND
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        posters.append({
            "username": user.username, "session": session.session_key,
            "thread": thread.pk, "page": page,
        })
        chosen += 1
texts = {"posted": [], "limited": []}
for language in ("zh-hans", "en"):
    with translation.override(language):
        texts["posted"].append(_("Your message is posted."))
        texts["limited"].append(
            _("You are posting too fast: at most %(n)d messages in %(s)d seconds. Wait a moment.")
            % {"n": threads.RATE_LIMIT, "s": threads.RATE_WINDOW}
        )
print(json.dumps({"posters": posters, "readers": readers, "texts": texts}, ensure_ascii=False))
"""

# `manage.py shell -c`: the public pages the readers request, and each proposal page's
# description as the page shows it (a digest), to tell a blank page from a full one.
PAGES = """\
import hashlib
import json

from django.urls import reverse

from council.models import Community
from council.sanitiser import sanitised_again
from disclosure import opendata
from disclosure.models import Disclosure
from proposals.models import Proposal

def digest(text):
    return hashlib.sha256(text.encode()).hexdigest()[:24]

pages = [("home", "/"), ("evidence", reverse("evidence")), ("open data", reverse("open_data"))]
pages.append(("disclosure", reverse("disclosure_index")))
for name in sorted(opendata.DATASETS):
    pages.append(("open data", reverse("open_data_file", kwargs={"name": name, "fmt": "json"})))
for community in Community.objects.order_by("slug"):
    pages.append(("community", reverse("community", args=[community.slug])))
    pages.append(("proposal list", reverse("proposal_list", kwargs={"slug": community.slug})))
descriptions = {}
for proposal in Proposal.objects.select_related("community").order_by("pk"):
    kwargs = {"slug": proposal.community.slug, "pk": proposal.pk}
    path = reverse("proposal", kwargs=kwargs)
    pages.append(("proposal", path))
    pages.append(("project", reverse("project", kwargs=kwargs)))
    if proposal.body_html:
        descriptions[path] = digest(sanitised_again(proposal.body_html))
for pk in Disclosure.objects.filter(status="published").order_by("pk").values_list("pk", flat=True):
    pages.append(("disclosure", reverse("disclosure", args=[pk])))
print(json.dumps({"pages": pages, "descriptions": descriptions}))
"""

# `manage.py shell -c`: digests of every piece of user text as a page shows it (each `_html`
# column, and `_html` keys inside JSON columns such as a disclosure's frozen content, through
# the sanitiser's `sanitised_again`, in one thread). A page's user-text block that is none of
# these was mangled on the way out.
CANON = """\
import hashlib
import json

from django.apps import apps

from council.sanitiser import sanitised_again

def digest(text):
    return hashlib.sha256(text.encode()).hexdigest()[:24]

def walk(value, found):
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and key.endswith("_html"):
                found.add(item)
            else:
                walk(item, found)
    elif isinstance(value, list):
        for item in value:
            walk(item, found)

found = set()
for model in apps.get_models():
    if model._meta.label == "council.EvidenceEvent":
        continue  # payloads: hashes and ids, never shown as user text
    fields = model._meta.concrete_fields
    html_fields = [f.name for f in fields if f.name.endswith("_html")]
    json_fields = [f.name for f in fields if f.get_internal_type() == "JSONField"]
    if not html_fields and not json_fields:
        continue
    for row in model.objects.values(*html_fields, *json_fields).iterator():
        for name in html_fields:
            if row[name]:
                found.add(row[name])
        for name in json_fields:
            walk(row[name], found)
digests = set()
for text in found:
    digests.add(digest(text))
    digests.add(digest(str(sanitised_again(text))))
print(json.dumps(sorted(digests)))
"""

# `manage.py shell -c` after the run: what the database holds of the run's messages and votes.
CHECK = """\
import json

from council.evidence import evidence_verify
from council.models import Message
from voting.models import Ballot

ballot = Ballot.objects.get(pk=__BALLOT__)
messages = list(
    Message.objects.filter(body__contains=__TAG__).values_list("pk", "thread_id", "body")
)
chain = evidence_verify()
print(json.dumps({
    "messages": messages,
    "votes": {str(vote.member_id): vote.choice for vote in ballot.votes.all()},
    "chain_ok": chain.ok,
    "chain_reason": "" if chain.ok else f"event #{chain.broken_at}: {chain.reason}",
}, ensure_ascii=False))
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="load duration (default 60)")
    parser.add_argument(
        "--concurrency", type=int, default=200, help="requests in flight at once (default 200)"
    )
    parser.add_argument(
        "--posters", type=int, default=8, help="residents posting thread messages (default 8)"
    )
    parser.add_argument("--voters", type=int, default=20, help="members voting (default 20)")
    parser.add_argument(
        "--readers", type=int, default=4, help="WebSocket readers of the threads (default 4)"
    )
    parser.add_argument(
        "--kill-at",
        type=float,
        default=None,
        help="second of the run at which worker 2 is killed (default: a quarter; 0: never)",
    )
    parser.add_argument(
        "--redis-at",
        type=float,
        default=None,
        help="second of the run at which Redis is stopped (default: half; 0: never)",
    )
    parser.add_argument(
        "--redis-down",
        type=float,
        default=None,
        help="seconds Redis stays stopped (default: a third of the run)",
    )
    parser.add_argument(
        "--redis-pause",
        action="store_true",
        help="pause Redis (SIGSTOP: hung, not stopped) instead of stopping it",
    )
    parser.add_argument("--seed", type=int, default=2026, help="seed of the clients' choices")
    parser.add_argument(
        "--out",
        type=Path,
        default=BENCH_DIR / "out",
        help="folder for logs, nginx's files and faults.json (default bench/out)",
    )
    args = parser.parse_args()
    if args.kill_at is None:
        args.kill_at = args.seconds / 4
    if args.redis_at is None:
        args.redis_at = args.seconds / 2
    if args.redis_down is None:
        args.redis_down = args.seconds / 3
    if args.seconds <= 0 or args.posters < 0 or args.voters < 0 or args.readers < 0:
        parser.error("--seconds must be positive; --posters, --voters, --readers at least 0")
    if args.concurrency < args.posters + args.voters + 1:
        parser.error("--concurrency must leave at least one page reader beside posters and voters")
    return args


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


# --- Set-up: environment, database, Redis, servers ----------------------------------------------


def environment(out_dir: Path, redis_port: int) -> dict[str, str]:
    return bench_env(
        os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        out_dir / "faults-static",
        REDIS_URL=f"redis://{HOST}:{redis_port}/0",
    )


class Redis:
    """A redis-server of the run's own, which the run stops and starts again."""

    def __init__(self, port: int, log: Path):
        self.port, self.log = port, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            fail("redis-server is missing (apt-get install redis-server)")
        with self.log.open("a") as log:
            self.proc = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly",
                 "no"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                fail(f"redis-server on port {self.port} exited; see {self.log}")
            with contextlib.suppress(OSError), socket.create_connection((HOST, self.port), 1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.05)
        fail(f"redis-server on port {self.port} did not answer; see {self.log}")

    def pause(self) -> None:
        """Hang it: the kernel still accepts connections, the server answers nothing."""
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.resume()  # a paused server would not act on TERM
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


# --- Clients ------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str


class Browser:
    """One keep-alive TLS connection to nginx and a cookie jar, as one browser holds them."""

    def __init__(self, port: int, tls: ssl.SSLContext, cookies: dict[str, str] | None = None):
        self.port, self.tls = port, tls
        self.cookies = dict(cookies or {})
        self.connection: http.client.HTTPSConnection | None = None
        self.used = False

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
        self.connection, self.used = None, False

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> Answer:
        sent = {"Host": f"{HOST}:{self.port}", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
            sent["Origin"] = f"https://{HOST}:{self.port}"
            sent["Referer"] = f"https://{HOST}:{self.port}{path}"
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPSConnection(
                    HOST, self.port, timeout=TIMEOUT, context=self.tls
                )
                self.used = False
            reused = self.used
            try:
                self.connection.request(method, path, body=body, headers=sent)
                response = self.connection.getresponse()
                text = response.read().decode("utf-8", "replace")
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                # A keep-alive connection nginx closed between two requests: a browser opens
                # a new one and sends again. Anything else is the answer.
                if reused and attempt == 1:
                    continue
                raise
            except Exception:
                self.close()
                raise
            self.used = True
            if response.will_close:
                self.close()
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return Answer(response.status, response.headers, text)
        raise AssertionError  # unreachable


@dataclass
class Record:
    kind: str
    started: float  # seconds since the load started
    ended: float
    status: int  # 0: no answer
    method: str = "GET"
    error: str = ""  # why there was no answer
    blank: str = ""  # why a 200 page counts as blank
    outcome: str = ""  # posts and votes: acked, limited, refused, unknown


USER_TEXT = re.compile(r'<div class="user-text">(.*?)</div>', re.S)
MAIN = re.compile(r'<main id="main"[^>]*>(.*?)</main>', re.S)
FLASH = re.compile(r'<p class="message (\w+)">(.*?)</p>', re.S)
ARTICLE = re.compile(r'<article id="message-(\d+)"[^>]*>(.*?)</article>', re.S)


@dataclass
class Run:
    """Everything the clients share: what they request, what they know, what they saw."""

    port: int
    tls: ssl.SSLContext
    pages: dict[str, list[str]]
    descriptions: dict[str, str]
    canon: set[str]
    texts: dict[str, list[str]]
    tag: str
    t0: float = 0.0
    stop_at: float = 0.0
    records: list[Record] = field(default_factory=list)
    unknown: dict[str, str] = field(default_factory=dict)  # digest → a sample of the text
    lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> float:
        return time.monotonic() - self.t0

    def blank(self, path: str, answer: Answer) -> str:
        """Why a 200 answer counts as blank ("" if it does not), noting text never stored.

        A page is blank if its body is empty, if it has no ``<main>`` content, if any of its
        user-text blocks (``<div class="user-text">``, where the sanitiser's HTML goes) is
        empty, or, for a proposal page, if the proposal's description is not among them. A
        block that is not empty but is none of the texts stored in the database (``CANON``)
        is kept to be checked again after the run (a message posted meanwhile is new).
        """
        if answer.status != 200:
            return ""
        content_type = answer.headers.get("Content-Type", "")
        if not answer.body.strip():
            return "empty body"
        if content_type.startswith("application/json"):
            try:
                json.loads(answer.body)
            except ValueError:
                return "JSON that does not parse"
            return ""
        if not content_type.startswith("text/html"):
            return ""
        main = MAIN.search(answer.body)
        if main is None or not main.group(1).strip():
            return "no <main> content"
        blocks = USER_TEXT.findall(main.group(1))
        if any(not block.strip() for block in blocks):
            return "an empty user-text block"
        digests = [digest(block) for block in blocks]
        expected = self.descriptions.get(path)
        if expected is not None and expected not in digests:
            return "the proposal's description is missing"
        self.note_unknown(zip(digests, blocks, strict=True))
        return ""

    def note_unknown(self, pairs) -> None:
        for key, block in pairs:
            if key not in self.canon and key not in self.unknown:
                with self.lock:
                    self.unknown.setdefault(key, block[:300])

    def record(self, record: Record) -> Record:
        self.records.append(record)  # list.append is atomic
        return record

    def timed(self, browser: Browser, kind: str, method: str, path: str, **kw) -> tuple:
        """One request; (record, answer or None)."""
        started = self.now()
        try:
            answer = browser.request(method, path, **kw)
        except (OSError, http.client.HTTPException) as error:
            return self.record(
                Record(kind, started, self.now(), 0, method, error=type(error).__name__)
            ), None
        record = Record(kind, started, self.now(), answer.status, method)
        if method == "GET":
            record.blank = self.blank(path, answer)
        return self.record(record), answer


def page_reader(run: Run, rng: random.Random) -> None:
    browser = Browser(run.port, run.tls)
    kinds = [k for k in PAGE_WEIGHTS if run.pages.get(k)]
    weights = [PAGE_WEIGHTS[k] for k in kinds]
    while time.monotonic() < run.stop_at:
        kind = rng.choices(kinds, weights)[0]
        run.timed(browser, kind, "GET", rng.choice(run.pages[kind]))
    browser.close()


@dataclass
class Poster:
    username: str
    thread: int
    page: str
    cookies: dict[str, str]
    sent: list[tuple[str, str]] = field(default_factory=list)  # (body, outcome)


def poster_loop(run: Run, poster: Poster, rng: random.Random) -> None:
    """Posts without pause: the POST, then the page it redirects to, which tells the outcome."""
    browser = Browser(run.port, run.tls, poster.cookies)
    seq = 0
    while time.monotonic() < run.stop_at:
        seq += 1
        body = f"{run.tag} {poster.username} #{seq}：{rng.choice(['同意', '建议再议', '支持'])}"
        form = {
            "csrfmiddlewaretoken": browser.cookies.get("csrftoken", ""),
            "body": body,
            "kind": "comment",
            "next": poster.page,
        }
        record, answer = run.timed(
            browser,
            "thread post",
            "POST",
            f"/threads/{poster.thread}/post/",
            body=urlencode(form).encode(),
        )
        outcome = "unknown"
        if answer is not None and answer.status == 429:
            outcome = "limited"
        elif answer is not None and answer.status in (302, 303):
            location = urlsplit(answer.headers.get("Location", "")).path or poster.page
            _, page = run.timed(browser, "thread post → page", "GET", location)
            if page is not None and page.status == 200:
                outcome = flash_outcome(run, page.body)
        elif answer is not None and answer.status < 500:
            outcome = "refused"
        record.outcome = outcome
        poster.sent.append((body, outcome))
    browser.close()


def flash_outcome(run: Run, page: str) -> str:
    """What the page says about the post: acked, limited, refused, or unknown (nothing)."""
    for tags, text in FLASH.findall(page):
        text = html.unescape(text.strip())
        if "success" in tags and text in run.texts["posted"]:
            return "acked"
        if text in run.texts["limited"]:
            return "limited"
        if "error" in tags:
            return "refused"
    return "unknown"


@dataclass
class Voter:
    id: int
    username: str
    cookies: dict[str, str]
    csrf: str = ""
    sent: list[tuple[str, str]] = field(default_factory=list)  # (choice, outcome)


def voter_loop(run: Run, voter: Voter, path: str, rng: random.Random) -> None:
    """Votes without pause, changing the vote each time (htmx POSTs, as bench/votes.py)."""
    browser = Browser(run.port, run.tls, voter.cookies)
    headers = {"X-CSRFToken": voter.csrf, "HX-Request": "true", "HX-Target": "vote-box"}
    last = None
    while time.monotonic() < run.stop_at:
        choice = rng.choice([c for c in CHOICES if c != last])
        record, answer = run.timed(
            browser, "vote", "POST", path, body=urlencode({"choice": choice}).encode(),
            headers=headers,
        )  # fmt: skip
        if answer is None or answer.status >= 500:
            outcome = "unknown"
        elif answer.status == 200 and 'class="message success"' in answer.body:
            outcome = "acked"
            last = choice
        else:
            outcome = "refused"
        record.outcome = outcome
        voter.sent.append((choice, outcome))
    browser.close()


@dataclass
class Probe:
    """Asks one worker for ``/`` directly, again and again: (sent, answered, status or error)."""

    port: int
    pause: float
    answers: list[tuple[float, float, str]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def loop(self, run: Run) -> None:
        while not self.stop.is_set():
            sent = run.now()
            try:
                status = str(http_request(self.port, "GET", "/", timeout=TIMEOUT).status)
            except (OSError, http.client.HTTPException) as error:
                status = type(error).__name__
            self.answers.append((sent, run.now(), status))
            self.stop.wait(self.pause)


@dataclass
class Reader:
    thread: int
    after: int  # the last message id at set-up: resume after it
    seen: set[int] = field(default_factory=set)
    connections: int = 0
    closes: Counter = field(default_factory=Counter)
    blank: int = 0


async def read_thread(run: Run, reader: Reader, done: asyncio.Event) -> None:
    """Follows a thread as the page's script does: on every (re)open it resumes after the last
    message it has; a lost connection is retried after 1 s, then 2, 4, at most 5 s."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

    url = f"wss://{HOST}:{run.port}/ws/threads/{reader.thread}/"
    pause = 1.0
    while not done.is_set():
        try:
            async with connect(
                url, ssl=run.tls, origin=f"https://{HOST}:{run.port}", open_timeout=15
            ) as ws:
                reader.connections += 1
                pause = 1.0
                last = max(reader.seen, default=reader.after)
                await ws.send(json.dumps({"action": "resume", "after": last}))
                while not done.is_set():
                    try:
                        frame = await asyncio.wait_for(ws.recv(), timeout=0.5)
                    except TimeoutError:
                        continue
                    text = frame if isinstance(frame, str) else frame.decode()
                    for mid, inner in ARTICLE.findall(text):
                        reader.seen.add(int(mid))
                        blocks = USER_TEXT.findall(inner)
                        if any(not b.strip() for b in blocks):
                            reader.blank += 1
                        run.note_unknown((digest(b), b) for b in blocks)
                reader.closes["closed by the reader"] += 1
        except ConnectionClosed as error:
            reader.closes[str(error.rcvd.code) if error.rcvd else "1006"] += 1
        except (OSError, InvalidHandshake, InvalidStatus, TimeoutError) as error:
            reader.closes[type(error).__name__] += 1
        if done.is_set():
            break
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), timeout=pause)
        pause = min(pause * 2, 5.0)


def readers_thread(run: Run, readers: list[Reader], stop: threading.Event) -> threading.Thread:
    async def main() -> None:
        done = asyncio.Event()
        tasks = [asyncio.create_task(read_thread(run, r, done)) for r in readers]
        while not stop.is_set():
            await asyncio.sleep(0.2)
        done.set()
        await asyncio.wait(tasks, timeout=20)

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    return thread


# --- Figures ------------------------------------------------------------------------------------


def status_class(record: Record) -> str:
    if record.status == 0:
        return "no answer"
    if record.status == 500:
        return "500"
    if record.status >= 500:
        return "5xx other"
    if record.status == 429:
        return "429"
    return f"{record.status // 100}xx"


def ms(values: list[float], q: int) -> str:
    return f"{quantile(values, q) * 1000:.0f}" if values else "-"


def vote_lost(sent: list[tuple[str, str]], stored: str | None) -> str:
    """Why the stored vote contradicts what the member was told ("" if it does not).

    The stored vote must be the last one acknowledged, or the choice of a later request whose
    answer never came (it may have been recorded before the answer was lost)."""
    acked = [i for i, (_, outcome) in enumerate(sent) if outcome == "acked"]
    if not acked:
        return ""
    last = acked[-1]
    allowed = {sent[last][0]} | {c for c, outcome in sent[last + 1 :] if outcome == "unknown"}
    if stored in allowed:
        return ""
    return f"told {sent[last][0]!r} was recorded, the ballot holds {stored!r}"


def nginx_refusals(log: Path) -> Counter:
    counts: Counter = Counter()
    with contextlib.suppress(OSError):
        for line in log.read_text(errors="replace").splitlines():
            if "Connection refused) while connecting to upstream" in line:
                counts["refused"] += 1
            elif "no live upstreams" in line:
                counts["no live upstreams"] += 1
            elif "prematurely closed" in line or "reset by peer" in line:
                counts["cut"] += 1
    return counts


# --- The run: set-up, load with faults, report ---------------------------------------------------


@dataclass
class Stage:
    """What the set-up built and the load needs."""

    run: Run
    posters: list[Poster]
    voters: list[Voter]
    readers: list[Reader]
    vote_path: str
    ballot: int
    ports: list[int]
    serve: subprocess.Popen
    serve_log: Path
    nginx_log: Path


def set_up(args, env, redis: Redis, servers, rng: random.Random, out_dir: Path, started) -> Stage:
    """Redis, the database with the demo, the ballot and the people, the servers behind nginx;
    then one request per page, idle, to keep the public ones and check the blank-body rule."""
    redis.start()
    database_recreate(env["DATABASE_URL"])
    manage(env, "migrate", "--no-input", "-v0")
    progress(f"database re-created and migrated ({time.perf_counter() - started:.0f} s)")
    manage(env, "seed_demo")
    progress(f"seed_demo loaded ({time.perf_counter() - started:.0f} s)")
    members = max(args.voters, 1)
    setup = shell_json(
        env,
        VOTES_SETUP.replace("__MEMBERS__", str(members)).replace("__REASON__", repr(CLOSE_REASON)),
    )
    cookie = setup["session_cookie"]
    voters = [
        Voter(m["id"], m["username"], {cookie: m["session"]})
        for m in setup["members"][: args.voters]
    ]
    people = shell_json(
        env,
        POSTERS.replace("__PER_THREAD__", str(args.posters)).replace(
            "__EXCLUDE__", repr([m["id"] for m in setup["members"]])
        ),
    )
    # As many posters in each thread as can be (round robin), and the readers on those threads.
    by_thread = defaultdict(list)
    for p in people["posters"]:
        by_thread[p["thread"]].append(
            Poster(p["username"], p["thread"], p["page"], {cookie: p["session"]})
        )
    posters = [
        poster
        for group in itertools.zip_longest(*by_thread.values())
        for poster in group
        if poster is not None
    ][: args.posters]
    last = {r["thread"]: r["last"] for r in people["readers"]}
    threads = list(dict.fromkeys(p.thread for p in posters)) or list(last)
    readers = [Reader(t, last[t]) for t in itertools.islice(itertools.cycle(threads), args.readers)]
    listed = shell_json(env, PAGES)
    canon = set(shell_json(env, CANON))
    progress(
        f"ballot {setup['ballot']} open for {len(voters)} members, {len(posters)} posters, "
        f"{len(listed['pages'])} pages listed ({time.perf_counter() - started:.0f} s)"
    )

    nginx_dir = out_dir / "faults-nginx"
    shutil.rmtree(nginx_dir, ignore_errors=True)
    nginx_dir.mkdir(parents=True)
    site = servers.enter_context(
        site_start(env, out_dir / "faults-serve.log", nginx_dir, connections=2048, access_log=False)
    )
    ports, proxy_port, tls = site.ports, site.nginx.tls_port, site.nginx.tls()
    progress(f"bin/serve 2 behind nginx answers ({time.perf_counter() - started:.0f} s)")

    tag = f"故障演练{secrets.token_hex(3)}"
    run = Run(proxy_port, tls, {}, listed["descriptions"], canon, people["texts"], tag)
    browser = Browser(proxy_port, tls)
    dropped = Counter()
    for kind, path in listed["pages"]:
        record, answer = run.timed(browser, kind, "GET", path)
        if answer is None or answer.status != 200:
            dropped[kind] += 1  # a draft's page, a project not yet approved: not public
            continue
        if record.blank:
            fail(f"idle page {path} counts as blank ({record.blank}): the rule needs fixing")
        run.pages.setdefault(kind, []).append(path)
    browser.close()
    if run.unknown:
        sample = next(iter(run.unknown.values()))
        fail(f"an idle page shows user text the database does not hold: {sample!r}")
    run.records.clear()
    ballot_path = f"/c/donghu/ballots/{setup['ballot']}/"
    for voter in voters:
        browser = Browser(proxy_port, tls, voter.cookies)
        page = browser.request("GET", ballot_path)
        if page.status != 200 or f'hx-post="{ballot_path}vote/"' not in page.body:
            fail(f"{voter.username} sees no vote form on {ballot_path} ({page.status})")
        voter.cookies.update(browser.cookies)
        voter.csrf = voter.cookies.get(setup["csrf_cookie"], "")
        browser.close()
    for poster in posters:
        browser = Browser(proxy_port, tls, poster.cookies)
        page = browser.request("GET", poster.page)
        if page.status != 200 or f"/threads/{poster.thread}/post/" not in page.body:
            fail(f"{poster.username} sees no message form on {poster.page} ({page.status})")
        poster.cookies.update(browser.cookies)
        browser.close()
    print(
        f"database {database_name(env['DATABASE_URL'])} (PostgreSQL), own Redis on port "
        f"{redis.port}, workers on {ports[0]} and {ports[1]}, nginx (TLS) on {proxy_port}; "
        f"set-up took {time.perf_counter() - started:.0f} s"
    )
    print(
        f"{args.concurrency} clients for {args.seconds:.0f} s: {len(posters)} posting, "
        f"{len(voters)} voting, {args.concurrency - len(posters) - len(voters)} reading "
        f"{sum(len(v) for v in run.pages.values())} pages"
        + (f" (not public, left out: {dict(dropped)})" if dropped else "")
        + f"; {len(readers)} WebSocket readers"
    )
    return Stage(
        run, posters, voters, readers, ballot_path + "vote/", setup["ballot"], ports, site.serve,
        site.log, nginx_dir / "nginx-error.log",
    )  # fmt: skip


@dataclass
class Load:
    """What happened during the load."""

    events: dict[str, float]  # "kill", "redis stop", "redis": seconds into the run
    victim: int
    probes: list[Probe]  # worker 1's, worker 2's
    ended: float
    stuck: int
    serve_alive: bool


def load(args, stage: Stage, redis: Redis, rng: random.Random) -> Load:
    """The clients for ``--seconds``; worker 2 killed and Redis stopped on schedule."""
    run = stage.run
    victim = int(
        re.findall(
            rf"worker 2 of 2 on http://127\.0\.0\.1:{stage.ports[1]}/ \(pid (\d+)\)",
            stage.serve_log.read_text(),
        )[-1]
    )
    plan = []
    if args.kill_at > 0:
        plan.append(f"kill -9 worker 2 (pid {victim}) at {args.kill_at:.0f} s")
    if args.redis_at > 0:
        how = "pause (hang)" if args.redis_pause else "stop"
        plan.append(f"{how} Redis at {args.redis_at:.0f} s for {args.redis_down:.0f} s")
    print("faults: " + ("; ".join(plan) or "none"), flush=True)

    run.t0 = time.monotonic()
    run.stop_at = run.t0 + args.seconds
    clients = [
        threading.Thread(target=poster_loop, args=(run, poster, random.Random(rng.random())))
        for poster in stage.posters
    ]
    clients += [
        threading.Thread(
            target=voter_loop, args=(run, voter, stage.vote_path, random.Random(rng.random()))
        )
        for voter in stage.voters
    ]
    clients += [
        threading.Thread(target=page_reader, args=(run, random.Random(rng.random())))
        for _ in range(args.concurrency - len(stage.posters) - len(stage.voters))
    ]
    probes = [Probe(stage.ports[0], 0.25), Probe(stage.ports[1], 0.1)]
    helpers = [threading.Thread(target=p.loop, args=(run,)) for p in probes]
    for thread in clients + helpers:
        thread.daemon = True
        thread.start()
    readers_stop = threading.Event()
    reading = readers_thread(run, stage.readers, readers_stop) if stage.readers else None

    events: dict[str, float] = {}
    schedule = []
    if args.kill_at > 0:
        schedule.append((args.kill_at, "kill"))
    if args.redis_at > 0:
        schedule += [(args.redis_at, "redis stop"), (args.redis_at + args.redis_down, "redis")]
    for at, what in sorted(schedule):
        time.sleep(max(0.0, run.t0 + at - time.monotonic()))
        events[what] = run.now()
        if what == "kill":
            os.kill(victim, signal.SIGKILL)
            progress(f"{events[what]:5.1f} s: worker 2 killed")
        elif what == "redis stop" and args.redis_pause:
            redis.pause()
            progress(f"{events[what]:5.1f} s: Redis paused (hung)")
        elif what == "redis stop":
            redis.stop()
            progress(f"{events[what]:5.1f} s: Redis stopped")
        elif args.redis_pause:
            redis.resume()
            progress(f"{events[what]:5.1f} s: Redis resumed")
        else:
            redis.start()
            events[what] = run.now()
            progress(f"{events[what]:5.1f} s: Redis started again (empty)")
    for client in clients:
        client.join(timeout=max(0.1, run.stop_at - time.monotonic()) + TIMEOUT + 10)
    stuck = sum(1 for client in clients if client.is_alive())
    ended = run.now()
    time.sleep(2)  # the readers' last deliveries
    readers_stop.set()
    for probe in probes:
        probe.stop.set()
    for thread in helpers:
        thread.join(timeout=TIMEOUT + 5)
    if reading is not None:
        reading.join(timeout=30)
    progress(f"{ended:5.1f} s: load stopped ({len(run.records)} requests)")
    return Load(events, victim, probes, ended, stuck, stage.serve.poll() is None)


def report(args, stage: Stage, done: Load, check: dict, canon: set[str], out_dir: Path) -> int:
    """The tables and the criteria; 1 if any criterion failed."""
    run, records, events = stage.run, stage.run.records, done.events
    killed_at = events.get("kill")
    survivor, victim = done.probes
    back_at = None
    if killed_at is not None:
        answered = [end for sent, end, status in victim.answers if status == "200"]
        back_at = next((end for end in answered if end >= killed_at), None)
    down_until = back_at if back_at is not None else done.ended

    print()
    columns = ("2xx", "3xx", "429", "4xx", "500", "5xx other", "no answer")
    rows = []
    for kind in [*PAGE_WEIGHTS, "thread post", "thread post → page", "vote", "total"]:
        chosen = [r for r in records if kind in ("total", r.kind)]
        if not chosen:
            continue
        classes = Counter(status_class(r) for r in chosen)
        latencies = [r.ended - r.started for r in chosen if r.status]
        rows.append(
            (kind, str(len(chosen)), *(str(classes[c]) for c in columns))
            + (str(sum(1 for r in chosen if r.blank)), ms(latencies, 50), ms(latencies, 95))
        )
    table(("requests", "sent", *columns, "blank", "p50 ms", "p95 ms"), rows)

    blank = [r for r in records if r.blank]
    reader_blank = sum(r.blank for r in stage.readers)
    mangled = {k: v for k, v in run.unknown.items() if k not in canon}
    errors_500 = [r for r in records if r.status == 500]
    # A POST on the killed worker when it died: nginx does not resend it (it may have been
    # recorded), so it answers 502. Nothing can answer it; it is counted, not failed. "When it
    # died" spans a moment: the kernel still queues connections on a dying process's socket
    # until it is torn down, so a POST sent just after the kill can be cut the same way.
    cut = {
        id(r)
        for r in records
        if killed_at is not None
        and r.method == "POST"
        and r.started <= killed_at + KILL_SETTLES
        and r.ended >= killed_at
        and r.status in (0, 502)
    }
    other_5xx = [r for r in records if r.status > 500 and r.status != 503 and id(r) not in cut]
    busy = sum(1 for r in records if r.status == 503)
    unanswered = [r for r in records if r.status == 0 and id(r) not in cut]
    # The busy page (503, the pool's "wait a moment") is the worker answering, by design.
    survivor_failed = [a for a in survivor.answers if a[2] not in ("200", "503")]
    nginx = nginx_refusals(stage.nginx_log)

    print()
    faults = []
    if killed_at is not None:
        down = [r for r in records if killed_at <= r.started <= down_until]
        survivor_down = [a for a in survivor.answers if killed_at <= a[0] <= down_until]
        faults += [
            ("worker 2 killed (kill -9) at", f"{killed_at:.1f} s (pid {done.victim})"),
            (
                "it answered again after",
                f"{back_at - killed_at:.1f} s" if back_at else "never during the run",
            ),
            (
                "requests through nginx meanwhile",
                f"{len(down)}: {sum(1 for r in down if r.status == 500)} × 500, "
                f"{sum(1 for r in down if r.status > 500)} other 5xx, "
                f"{sum(1 for r in down if r.status == 0)} unanswered",
            ),
            (
                "in flight on it when killed",
                f"{nginx['cut']} (GETs passed to worker 1; {len(cut)} POSTs answered 502)",
            ),
            (
                "worker 1's probes meanwhile",
                f"{len(survivor_down)}, {sum(1 for a in survivor_down if a[2] != '200')} failed",
            ),
            (
                "connections refused",
                f"nginx → workers {nginx['refused']} (passed on), probe of worker 2 "
                f"{sum(1 for a in victim.answers if a[2] == 'ConnectionRefusedError')}, "
                f"clients {sum(1 for r in records if r.error == 'ConnectionRefusedError')}",
            ),
        ]
    redis_from, redis_to = events.get("redis stop"), events.get("redis")
    if redis_from is not None:
        during = [r for r in records if redis_from <= r.started <= (redis_to or done.ended) + 5]
        faults += [
            (
                "Redis paused (hung)" if args.redis_pause else "Redis stopped",
                f"from {redis_from:.1f} s to {redis_to or done.ended:.1f} s",
            ),
            (
                "requests then (and 5 s after)",
                f"{len(during)}: {sum(1 for r in during if r.status == 500)} × 500, "
                f"{sum(1 for r in during if r.status > 500)} other 5xx, "
                f"{sum(1 for r in during if r.status == 429)} × 429",
            ),
        ]
    serve_log = stage.serve_log.read_text(errors="replace")
    faults += [
        ("bin/serve restarts logged", str(len(re.findall(r"restarted \(pid \d+\)", serve_log)))),
        ("bin/serve still running at the end", "yes" if done.serve_alive else "NO"),
    ]
    table(("faults", "figure"), faults)

    stored = {body for _, _, body in check["messages"]}
    sent_posts = [(b, o) for p in stage.posters for b, o in p.sent]
    acked = [b for b, o in sent_posts if o == "acked"]
    missing = [b for b in acked if b not in stored]
    unacked_stored = sum(1 for b, o in sent_posts if o != "acked" and b in stored)
    posts = Counter(o for _, o in sent_posts)
    votes = Counter(o for v in stage.voters for _, o in v.sent)
    acked_voters = [v for v in stage.voters if any(o == "acked" for _, o in v.sent)]
    lost_votes = {
        v.username: why
        for v in acked_voters
        if (why := vote_lost(v.sent, check["votes"].get(str(v.id))))
    }
    print()
    lost = [
        (
            "thread posts",
            f"{posts['acked']} acked, {posts['limited']} too fast (rate limit), "
            f"{posts['refused']} refused, {posts['unknown']} without an answer",
        ),
        (
            "acked posts stored",
            f"{len(acked) - len(missing)}/{len(acked)} (+{unacked_stored} whose answer was lost)",
        ),
        (
            "votes",
            f"{votes['acked']} acked, {votes['refused']} refused, "
            f"{votes['unknown']} without an answer",
        ),
        (
            "stored vote = last acked (or later)",
            f"{len(acked_voters) - len(lost_votes)}/{len(acked_voters)} members",
        ),
        ("evidence chain", "OK" if check["chain_ok"] else f"BROKEN ({check['chain_reason']})"),
    ]
    if stage.readers:
        posted = defaultdict(set)
        for mid, thread, _ in check["messages"]:
            posted[thread].add(mid)
        closes = sum((r.closes for r in stage.readers), Counter())
        lost += [
            (
                "WebSocket readers",
                f"{len(stage.readers)}: {sum(r.connections for r in stage.readers)} "
                "connections; closes " + ", ".join(f"{k} ×{v}" for k, v in sorted(closes.items())),
            ),
            (
                "the run's messages each reader saw",
                ", ".join(
                    f"{len(r.seen & posted[r.thread])}/{len(posted[r.thread])}"
                    for r in stage.readers
                ),
            ),
        ]
    table(("nothing lost", "figure"), lost)

    recovery = back_at - killed_at if back_at is not None and killed_at is not None else None
    criteria = [
        ("no answer 500", not errors_500, f"{len(errors_500)} × 500"),
        (
            "no blank body",
            not blank and not reader_blank,
            f"{len(blank)} pages, {reader_blank} WebSocket messages"
            + (f"; e.g. {blank[0].kind}: {blank[0].blank}" if blank else ""),
        ),
        (
            "no mangled user text",
            not mangled,
            f"{len(mangled)} texts the database does not hold"
            + (f"; e.g. {next(iter(mangled.values()))[:60]!r}" if mangled else ""),
        ),
        (
            "no other 5xx (503 and cut POSTs aside)",
            not other_5xx,
            f"{len(other_5xx)} {dict(Counter(r.status for r in other_5xx))}; 503: {busy}",
        ),
        (
            "every request answered",
            not unanswered and not done.stuck,
            f"{len(unanswered)} unanswered, {done.stuck} clients stuck",
        ),
        (
            "worker 1 answered throughout",
            not survivor_failed,
            f"{len(survivor_failed)} of {len(survivor.answers)} probes failed"
            + (f" ({dict(Counter(a[2] for a in survivor_failed))})" if survivor_failed else ""),
        ),
        (
            f"worker 2 back within {RECOVERY_LIMIT:.0f} s",
            killed_at is None or (recovery is not None and recovery <= RECOVERY_LIMIT),
            "not killed" if killed_at is None else (f"{recovery:.1f} s" if recovery else "never"),
        ),
        (
            "nothing acknowledged lost",
            not missing and not lost_votes and check["chain_ok"],
            f"{len(missing)} posts, {len(lost_votes)} votes"
            + (f"; e.g. {next(iter(lost_votes.items()))}" if lost_votes else ""),
        ),
        ("bin/serve kept running", done.serve_alive, "" if done.serve_alive else "it exited"),
    ]
    print()
    table(
        ("criterion", "result", "figures"),
        [(name, "PASS" if ok else "FAIL", figures) for name, ok, figures in criteria],
    )
    if errors_500 or other_5xx:
        print(f"\nmost frequent exceptions in the servers' log ({stage.serve_log}):")
        for line, count in server_errors(stage.serve_log, top=5):
            print(f"  {count}× {line}")

    results = out_dir / "faults.json"
    names = ("sent", *columns, "blank", "p50_ms", "p95_ms")
    figures = {
        "seconds": args.seconds,
        "concurrency": args.concurrency,
        "requests": {row[0]: dict(zip(names, row[1:], strict=True)) for row in rows},
        "events": events,
        "recovery_s": recovery,
        "posts": dict(posts),
        "votes": dict(votes),
        "mangled": len(mangled),
        "criteria": {name: ok for name, ok, _ in criteria},
    }
    results.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n")
    print(f"figures also written to {results}")
    return 0 if all(ok for _, ok, _ in criteria) else 1


def main() -> int:
    args = parse_args()
    out_dir = args.out.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    redis = Redis(free_port(), out_dir / "faults-redis.log")
    redis.log.write_text("")
    env = environment(out_dir, redis.port)
    rng = random.Random(args.seed)

    import django

    print("Weishi fault-injection load test (bench/faults.py)")
    print(
        f"Python {platform.python_version()} · Django {django.get_version()} · "
        f"{os.cpu_count()} CPUs"
    )
    started = time.perf_counter()
    try:
        with contextlib.ExitStack() as servers:  # bin/serve and nginx, stopped before the checks
            stage = set_up(args, env, redis, servers, rng, out_dir, started)
            done = load(args, stage, redis, rng)
        if redis.proc is None:  # stopped when the load ended: the checks may use the cache
            redis.start()
        check = shell_json(
            env,
            CHECK.replace("__BALLOT__", str(stage.ballot)).replace("__TAG__", repr(stage.run.tag)),
        )
        canon = stage.run.canon | set(shell_json(env, CANON))
    finally:
        redis.stop()
    status = report(args, stage, done, check, canon, out_dir)
    print(f"total {time.perf_counter() - started:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main_run(main))
