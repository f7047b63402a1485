"""``make run`` as a newcomer meets it: it says what it is doing while it installs (pip's whole
output kept in a log), and the site's address it prints on PDFs and notices is the one it
serves at. Each test runs the real Makefile against a stand-in Python in a folder of its own,
so nothing is installed and the checkout's .venv is not touched."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BROWSER, BROWSER_FIRST, SERIAL, TESTS

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")

# Stands in for .venv/bin/python: pip prints what a first install prints; every other call
# says which SITE_URL it was given and stops the run there.
FAKE_PYTHON = """#!/usr/bin/env bash
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
  if [[ " $* " == *" --upgrade pip "* ]]; then echo "Requirement already satisfied: pip"; exit 0; fi
  for i in $(seq 1 25); do echo "Collecting package$i"; echo "  Downloading package$i.whl"; done
  echo "Installing collected packages: package1, package2, package3"
  [ -n "$PIP_FAILS" ] && { echo "ERROR: No matching distribution found for package3"; exit 1; }
  echo "Successfully installed package1-1.0 package2-1.0 package3-1.0"
  exit 0
fi
if [ "$1" = "-c" ]; then exit 0; fi
if [ "$1" = "bin/pip-progress" ]; then exec python3 "$@"; fi
echo "SITE_URL=$SITE_URL"
exit 3
"""


@pytest.fixture
def venv(tmp_path):
    """A folder standing for .venv, holding the stand-in Python."""
    folder = tmp_path / "venv"
    (folder / "bin").mkdir(parents=True)
    python = folder / "bin" / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    return folder


def make(*args, env=None):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    environment.pop("SITE_URL", None)
    environment.update(env or {})
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def installed(venv: Path) -> Path:
    """The stamp ``make`` leaves once the packages of this pyproject.toml are installed."""
    # The Makefile's own name for it (sha1sum): a file name, not a security measure.
    digest = hashlib.sha1((ROOT / "pyproject.toml").read_bytes(), usedforsecurity=False)
    digest = digest.hexdigest()[:12]
    stamp = venv / f".installed-{digest}"
    stamp.touch()
    return stamp


def test_installing_says_how_far_it_has_got_and_keeps_pips_output_in_the_log(venv):
    result = make("install", f"VENV={venv}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "Installing Python packages (about 3 minutes on a first run; "
        f"pip's output: {venv}/install.log)…",
        "  10 packages found…",
        "  20 packages found…",
        "  Installing 3 packages…",
        "  Installed 3 packages.",
    ]
    log = (venv / "install.log").read_text()
    assert "Requirement already satisfied: pip" in log  # the pip upgrade, first
    assert "  Downloading package25.whl" in log and "Successfully installed" in log
    assert installed(venv).exists()


def test_a_failed_install_shows_the_end_of_pips_log_and_stops(venv):
    result = make("install", f"VENV={venv}", env={"PIP_FAILS": "1"})
    assert result.returncode != 0
    assert "ERROR: No matching distribution found for package3" in result.stdout
    assert not list(venv.glob(".installed-*"))


def test_the_site_address_is_where_make_run_serves(venv):
    installed(venv)
    result = make("run", f"VENV={venv}", "RUN_DEBS=", "HOST=0.0.0.0", "PORT=9000")
    assert "SITE_URL=http://0.0.0.0:9000" in result.stdout, result.stdout + result.stderr
    result = make("run", f"VENV={venv}", "RUN_DEBS=")
    assert "SITE_URL=http://127.0.0.1:8000" in result.stdout, result.stdout + result.stderr


def test_a_site_address_set_in_the_environment_is_kept(venv):
    installed(venv)
    result = make("run", f"VENV={venv}", "RUN_DEBS=", env={"SITE_URL": "https://weishi.example.cn"})
    assert "SITE_URL=https://weishi.example.cn" in result.stdout, result.stdout + result.stderr


def test_settings_read_the_site_address_from_the_environment(tmp_path):
    script = "import django; django.setup(); from django.conf import settings; "
    script += "print(repr(settings.SITE_URL))"
    for value, expected in [("http://0.0.0.0:9000/", "'http://0.0.0.0:9000'"), (None, "''")]:
        env = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "DATABASE_URL"}}
        env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1"})
        if value is not None:
            env["SITE_URL"] = value
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.stdout.strip() == expected, result.stderr


def test_every_folder_or_file_make_pytest_keeps_out_of_its_first_phase_exists():
    # A renamed folder or file would otherwise silently join the tests that share the cores.
    # So would a renamed browser file listed to start first: the workers would no longer
    # finish together.
    for path in [*SERIAL, BROWSER, *BROWSER_FIRST]:
        assert (TESTS / path).exists(), f"tests/conftest.py names tests/{path}, which is gone"
    assert all(path.startswith(BROWSER) for path in BROWSER_FIRST), BROWSER_FIRST
