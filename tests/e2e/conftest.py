"""Real-browser fixtures: a daphne server on a throwaway SQLite database, and Chromium.

Everything runs in subprocesses or through the browser: the ORM is never touched from the
pytest process (sync Playwright runs an event loop, so the ORM would raise
SynchronousOnlyOperation).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from tests.conftest import compile_messages
from tests.load.servers import HOST, daphne_start, manage

if TYPE_CHECKING:
    from .journey import Site

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_PASSWORD = "weishi-demo-2026"

# The sign-in form's words, as a person reads them in each language.
SIGN_IN_WORDS = {
    "en": {
        "username": "Username",
        "password": "Password",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
    },
    "zh": {"username": "用户名", "password": "密码", "sign_in": "登录", "sign_out": "退出登录"},
}


def banner(page: Page) -> Locator:
    """The page's header, its menu opened first where it is folded (on a phone), as a person
    taps the menu button before reaching a link in it."""
    page.wait_for_load_state()  # the stylesheet says whether the menu is folded
    header = page.get_by_role("banner")
    toggle = header.locator("details.site-menu > summary")
    if toggle.is_visible() and not header.locator("details.site-menu").evaluate("d => d.open"):
        toggle.click()
    return header


def sign_in(page: Page, username: str, password: str, words: dict[str, str] | None = None) -> None:
    """Sign in through the form as a person does (the labels and buttons of ``words``, English
    unless given), and wait until the header offers to sign out."""
    words = words or SIGN_IN_WORDS["en"]
    page.goto("/accounts/login/")
    page.get_by_label(words["username"]).fill(username)
    page.get_by_label(words["password"]).fill(password)
    page.get_by_role("main").get_by_role("button", name=words["sign_in"]).click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    expect(banner(page).get_by_role("button", name=words["sign_out"])).to_be_visible()


# The translations are compiled (msgfmt) into the temporary directory, never into the
# checkout: this settings module is config.settings with LOCALE_PATHS pointing there, and the
# uploads and published PDFs stay there too.
E2E_SETTINGS = """\
from config.settings import *  # noqa: F403

LOCALE_PATHS = [{locale!r}]
MEDIA_ROOT = {media!r}
# As in the other tests: a password checked in microseconds, not the tenth of a second argon2
# takes by design (the demo's accounts are hashed when seeded, and the journeys sign in dozens
# of times; these tests are about the pages, not the hashing).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
"""


def _compile_messages(tmp: Path) -> Path:
    """Copy locale/ into tmp and compile every .po there (what `make messages` does)."""
    locale = tmp / "locale"
    shutil.copytree(ROOT / "locale", locale)
    compile_messages(locale)
    return locale


@dataclass
class _Server:
    base_url: str
    env: dict[str, str]
    tmp: Path


def _environment(tmp: Path, extra_settings: Callable[[Path], str] | None = None) -> dict:
    """The app's environment with its settings module, SQLite file and media folder in tmp.

    ``extra_settings(tmp)`` returns lines appended to the settings module.
    """
    locale = _compile_messages(tmp)
    settings = E2E_SETTINGS.format(locale=str(locale), media=str(tmp / "media"))
    if extra_settings is not None:
        settings += extra_settings(tmp)
    (tmp / "weishi_e2e_settings.py").write_text(settings)

    env = os.environ.copy()
    # SQLite always: one throwaway file per run. Redis, when configured, stays the channel layer.
    env.pop("DATABASE_URL", None)
    if not env.get("REDIS_URL"):
        env.pop("REDIS_URL", None)
    env.update(
        DEBUG="1",
        SECRET_KEY="e2e-only-secret-key-not-for-production-0123456789abcdef",
        SQLITE_PATH=str(tmp / "e2e.sqlite3"),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SETTINGS_MODULE="weishi_e2e_settings",
        PYTHONPATH=os.pathsep.join(filter(None, [str(tmp), str(ROOT), env.get("PYTHONPATH")])),
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory, worker_id) -> Path:
    """A folder holding a migrated SQLite database with the demo data and the media the
    seeding wrote (the PDFs it published), made once per run: each demo server starts from a
    copy instead of migrating and seeding again. Under pytest-xdist the first worker to need
    it makes it while the others wait (a file lock), and all read the one folder."""
    if worker_id == "master":
        return _demo_template_make(tmp_path_factory.mktemp("weishi-e2e-demo"))
    shared = tmp_path_factory.getbasetemp().parent / "weishi-e2e-demo"
    with open(f"{shared}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "made").exists():
            shutil.rmtree(shared, ignore_errors=True)  # a worker that failed half-way
            shared.mkdir()
            _demo_template_make(shared)
            (shared / "made").touch()
    return shared


def _demo_template_make(tmp: Path) -> Path:
    env = _environment(tmp)
    manage(env, "migrate", "--no-input", "-v0")
    manage(env, "seed_demo")
    return tmp


def _copy_demo(template: Path, tmp: Path) -> None:
    """The template's database (through SQLite's backup, whole whatever its journal) and media
    into tmp."""
    with (
        contextlib.closing(sqlite3.connect(template / "e2e.sqlite3")) as source,
        contextlib.closing(sqlite3.connect(tmp / "e2e.sqlite3")) as target,
    ):
        source.backup(target)
    if (template / "media").exists():
        shutil.copytree(template / "media", tmp / "media")


@contextlib.contextmanager
def _demo_server(
    prefix: str, template: Path, extra_settings: Callable[[Path], str] | None = None
) -> Iterator[_Server]:
    """A daphne serving the demo data from a fresh SQLite database in a temporary directory, a
    copy of ``template`` (see ``demo_template``).

    ``extra_settings(tmp)`` returns lines appended to the settings module.
    """
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    env = _environment(tmp, extra_settings)
    _copy_demo(template, tmp)
    try:
        with daphne_start(env, tmp / "daphne.log") as port:
            yield _Server(base_url=f"http://{HOST}:{port}", env=env, tmp=tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def live_server_url(demo_template: Path) -> Iterator[str]:
    """Base URL of a daphne serving the demo data from a fresh SQLite database."""
    with _demo_server("weishi-e2e-", demo_template) as server:
        yield server.base_url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class BrowserProblems:
    """Console errors, uncaught exceptions, CSP violations and HTTP errors seen by one page."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    failed_responses: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return self.real_console_errors() + self.page_errors + self.csp_violations

    def real_console_errors(self) -> list[str]:
        """The console errors, less htmx's report of a request the browser cancelled because
        the page was left while it was in flight (a poll, e.g. a ballot's live count): htmx
        logs ``htmx:afterRequest`` and ``htmx:sendAbort`` for the element as errors, though
        nothing failed. Any other error of that element still counts."""
        aborted = {
            e.removeprefix("htmx:sendAbort")
            for e in self.console_errors
            if e.startswith("htmx:sendAbort")
        }
        return [
            e
            for e in self.console_errors
            if not (
                e.startswith("htmx:sendAbort")
                or (
                    e.startswith("htmx:afterRequest")
                    and e.removeprefix("htmx:afterRequest") in aborted
                )
            )
        ]


# Reports every `securitypolicyviolation` event to Python (init scripts are not subject to
# the page's CSP, and the exposed binding survives navigations).
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__reportCspViolation(
    `${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`
  );
});
"""


def _open_page(
    browser: Browser, base_url: str, locale: str, **options
) -> tuple[Page, BrowserProblems]:
    context = browser.new_context(base_url=base_url, locale=locale, **options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems = BrowserProblems()

    def on_console(message) -> None:
        text = message.text
        url = message.location.get("url", "")
        if message.type == "error":
            problems.console_errors.append(f"{text} ({url})" if url else text)
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            problems.csp_violations.append(text)

    def on_response(response) -> None:
        if response.status >= 400:
            problems.failed_responses.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda error: problems.page_errors.append(str(error)))

    def on_csp_violation(report: str) -> None:
        problems.csp_violations.append(report)

    page.expose_function("__reportCspViolation", on_csp_violation)
    page.add_init_script(CSP_LISTENER)
    return page, problems


@pytest.fixture
def open_page(browser: Browser, live_server_url: str):
    """Factory: a fresh browser context (own cookies) with a page and its BrowserProblems.

    ``locale`` sets navigator.language and Accept-Language, which LocaleMiddleware follows.
    """
    contexts = []

    def factory(locale: str = "zh-CN", **options) -> tuple[Page, BrowserProblems]:
        page, problems = _open_page(browser, live_server_url, locale, **options)
        contexts.append(page.context)
        return page, problems

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture
def demo_password() -> str:
    return DEMO_PASSWORD


# The journey's server reads its clock's offset from a file in its directory (council.clock):
# advance_clock() rewrites the file, and daphne and every later manage.py see the moved clock.
JOURNEY_SETTINGS = """
CLOCK_OFFSET_FILE = {offset_file!r}
"""


@pytest.fixture(scope="module")
def journey_site(browser: Browser, demo_template: Path) -> Iterator[Site]:
    """A server of the journey's own, whose clock moves forward (tests/e2e/journey).

    Module scope: the moved clock never leaks into another module's tests.
    """
    from .journey import Site

    offset_holder: list[Path] = []

    def settings(tmp: Path) -> str:
        offset_file = tmp / "clock-offset"
        offset_holder.append(offset_file)
        return JOURNEY_SETTINGS.format(offset_file=str(offset_file))

    contexts = []
    with _demo_server("weishi-journey-", demo_template, settings) as server:
        offset_file = offset_holder[0]

        def open_page(locale: str = "zh-CN", **options) -> tuple[Page, BrowserProblems]:
            page, problems = _open_page(browser, server.base_url, locale, **options)
            contexts.append(page.context)
            return page, problems

        def site_manage(*args: str) -> str:
            return manage(server.env, *args)

        def advance_clock(delta: dt.timedelta) -> None:
            current = float(offset_file.read_text()) if offset_file.exists() else 0.0
            # Replaced, not rewritten: a new inode, so readers notice even within one mtime tick.
            tmp = offset_file.with_suffix(".tmp")
            tmp.write_text(repr(current + delta.total_seconds()))
            os.replace(tmp, offset_file)

        try:
            yield Site(
                base_url=server.base_url,
                open_page=open_page,
                manage=site_manage,
                advance_clock=advance_clock,
                password=DEMO_PASSWORD,
            )
        finally:
            for context in contexts:
                context.close()
