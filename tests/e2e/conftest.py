"""Real-browser fixtures: a daphne server on a throwaway SQLite database, and Chromium.

Everything runs in subprocesses or through the browser: the ORM is never touched from the
pytest process (sync Playwright runs an event loop, so the ORM would raise
SynchronousOnlyOperation).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
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

# The translations are compiled (msgfmt) into the temporary directory, never into the
# checkout: this settings module is config.settings with LOCALE_PATHS pointing there.
E2E_SETTINGS = """\
from config.settings import *  # noqa: F403

LOCALE_PATHS = [{locale!r}]
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _compile_messages(tmp: Path) -> Path:
    """Copy locale/ into tmp and compile every .po there (what `make messages` does)."""
    locale = tmp / "locale"
    shutil.copytree(ROOT / "locale", locale)
    for po in locale.rglob("*.po"):
        subprocess.run(
            ["msgfmt", "--check-format", "-o", str(po.with_suffix(".mo")), str(po)],
            check=True,
            capture_output=True,
            text=True,
        )
    return locale


def _manage(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"manage.py {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}",
            pytrace=False,
        )


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"daphne exited ({proc.returncode}):\n{log.read_text()}", pytrace=False)
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    pytest.fail(f"daphne did not answer {url} within {timeout}s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def live_server_url() -> Iterator[str]:
    """Base URL of a daphne serving the demo data from a fresh SQLite database."""
    tmp = Path(tempfile.mkdtemp(prefix="weishi-e2e-"))
    locale = _compile_messages(tmp)
    (tmp / "weishi_e2e_settings.py").write_text(E2E_SETTINGS.format(locale=str(locale)))

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

    _manage(env, "migrate", "--no-input", "-v0")
    _manage(env, "seed_demo")

    port = _free_port()
    log = tmp / "daphne.log"
    with log.open("w") as log_file:
        proc = subprocess.Popen(
            [
                str(VENV_BIN / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "config.asgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url + "/", proc, log)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


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
        return self.console_errors + self.page_errors + self.csp_violations


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
