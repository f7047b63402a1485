"""The clock seam: travel() in this process, and the offset file a test server shares."""

import datetime as dt
import importlib
import os

import pytest
from django.utils import timezone

import config.settings
from council import clock

FIXED = dt.datetime(2026, 3, 1, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: FIXED)


def write_offset(path, seconds):
    """Replace the file (as the e2e fixture does): a new inode, whatever the mtime's grain."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(str(seconds))
    os.replace(tmp, path)


def test_no_setting_no_offset(settings, frozen, tmp_path):
    assert settings.CLOCK_OFFSET_FILE is None
    assert clock.now() == FIXED


def test_the_setting_is_not_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CLOCK_OFFSET_FILE", str(tmp_path / "offset"))
    assert importlib.reload(config.settings).CLOCK_OFFSET_FILE is None


def test_a_missing_file_is_no_offset(settings, frozen, tmp_path):
    settings.CLOCK_OFFSET_FILE = str(tmp_path / "offset")
    assert clock.now() == FIXED


def test_the_offset_in_the_file_is_added(settings, frozen, tmp_path):
    path = tmp_path / "offset"
    write_offset(path, 6 * 86400)
    settings.CLOCK_OFFSET_FILE = str(path)
    assert clock.now() == FIXED + dt.timedelta(days=6)
    assert clock.today() == dt.date(2026, 3, 7)


def test_the_offset_follows_the_file_when_it_changes(settings, frozen, tmp_path):
    path = tmp_path / "offset"
    settings.CLOCK_OFFSET_FILE = str(path)
    write_offset(path, 3600)
    assert clock.now() == FIXED + dt.timedelta(hours=1)
    write_offset(path, 7200)  # same size, possibly the same mtime
    assert clock.now() == FIXED + dt.timedelta(hours=2)
    path.write_text("90.5")  # rewritten in place
    assert clock.now() == FIXED + dt.timedelta(seconds=90.5)
    path.unlink()
    assert clock.now() == FIXED


def test_the_file_is_read_once_while_it_is_unchanged(settings, frozen, tmp_path, monkeypatch):
    path = tmp_path / "offset"
    write_offset(path, 60)
    settings.CLOCK_OFFSET_FILE = str(path)
    assert clock.now() == FIXED + dt.timedelta(minutes=1)
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    for _ in range(3):
        assert clock.now() == FIXED + dt.timedelta(minutes=1)
    assert opened == []


def test_the_setting_turned_off_drops_the_offset(settings, frozen, tmp_path):
    path = tmp_path / "offset"
    write_offset(path, 600)
    settings.CLOCK_OFFSET_FILE = str(path)
    assert clock.now() == FIXED + dt.timedelta(minutes=10)
    settings.CLOCK_OFFSET_FILE = None
    assert clock.now() == FIXED


def test_travel_composes_with_the_file(settings, frozen, tmp_path):
    path = tmp_path / "offset"
    write_offset(path, 86400)
    settings.CLOCK_OFFSET_FILE = str(path)
    with clock.travel(dt.timedelta(hours=3)):
        assert clock.now() == FIXED + dt.timedelta(days=1, hours=3)
        write_offset(path, 2 * 86400)
        assert clock.now() == FIXED + dt.timedelta(days=2, hours=3)
    assert clock.now() == FIXED + dt.timedelta(days=2)
