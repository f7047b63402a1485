"""Settings load both ways (embedded default and production), each in a fresh process."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k7#Qm2$vX9!pL4@wZ8&nR1^tY6*uB3%eH5(sD0)fG-jK_cV+aM=iO~oP",
    "ALLOWED_HOSTS": "weishi.example.org",
    "DATABASE_URL": "postgres://weishi:secret@db.internal:5432/weishi",
    "REDIS_URL": "redis://cache.internal:6379/0",
}
# The test run's own settings, which must not leak into the processes under test.
INHERITED = {
    "DATABASE_URL",
    "REDIS_URL",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "EMAIL_BACKEND",
    "PYTEST_XDIST_WORKER",
}
PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "layer_config": settings.CHANNEL_LAYERS["default"].get("CONFIG"),
    "cache": settings.CACHES["default"]["BACKEND"],
    "cache_location": settings.CACHES["default"].get("LOCATION"),
    "pool": settings.DATABASES["default"].get("OPTIONS", {}).get("pool"),
    "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE"),
    "debug": settings.DEBUG,
    "language": settings.LANGUAGE_CODE,
    "languages": [code for code, _ in settings.LANGUAGES],
    "tz": settings.TIME_ZONE,
    "django": django.get_version(),
}))
"""


def run(args, env_changes, **kwargs):
    env = {k: v for k, v in os.environ.items() if k not in INHERITED}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", **env_changes})
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, **kwargs
    )


def probe(env_changes):
    result = run([sys.executable, "-c", PROBE], env_changes)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_embedded_default_is_sqlite_and_the_in_memory_channel_layer():
    found = probe({"DEBUG": "1"})
    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["layer"] == "channels.layers.InMemoryChannelLayer"
    assert found["cache"].endswith("LocMemCache")
    assert found["language"] == "zh-hans" and found["languages"] == ["zh-hans", "en"]
    assert found["tz"] == "Asia/Shanghai"
    assert found["django"].startswith("6.1")


def test_production_reads_postgresql_and_redis_from_the_environment():
    found = probe(PRODUCTION)
    assert found["engine"] == "django.db.backends.postgresql"
    # channels-redis's layer and Django's RedisCache, each surviving a Redis outage.
    assert found["layer"] == "council.realtime.RedisChannelLayer"
    # redis-py 8's pool default (100) would refuse the 101st websocket: see shared/STACK.md.
    assert found["layer_config"]["hosts"][0]["max_connections"] >= 1000
    assert found["cache"] == "council.cache.FallbackRedisCache"
    assert found["debug"] is False


def test_each_parallel_test_worker_gets_a_redis_database_of_its_own():
    def databases(env_changes):
        found = probe(env_changes)
        return found["layer_config"]["hosts"][0]["address"], found["cache_location"]

    # Production: the database REDIS_URL names, for the channel layer and the cache alike.
    assert databases(PRODUCTION) == ("redis://cache.internal:6379/0",) * 2
    # pytest-xdist's workers gw0, gw1, …: that database and the next ones, one each.
    for worker, database in [("gw0", 0), ("gw1", 1), ("gw3", 3)]:
        url = f"redis://cache.internal:6379/{database}"
        assert databases({**PRODUCTION, "PYTEST_XDIST_WORKER": worker}) == (url, url)
    # Counted from the database REDIS_URL names (its password and all kept).
    moved = {**PRODUCTION, "REDIS_URL": "redis://:pw@cache.internal/5"}
    moved["PYTEST_XDIST_WORKER"] = "gw2"
    assert databases(moved) == ("redis://:pw@cache.internal/7",) * 2


def test_production_pools_database_connections_and_a_machine_of_workers_fits_under_100():
    found = probe(PRODUCTION)
    pool = found["pool"]
    assert pool and found["conn_max_age"] == 0  # Django's pool requires CONN_MAX_AGE 0
    assert 1 <= pool["min_size"] <= pool["max_size"]
    assert 0 < pool["timeout"] <= 10  # a request waits briefly, then gets the 503 page
    # The README's deployment: 4 page workers, 2 WebSocket workers and the scheduler, and
    # psql, migrate or a shell beside them, under PostgreSQL's default max_connections of 100
    # (of which 3 are reserved for superusers) — on each of up to three such machines.
    assert 3 * (4 + 2 + 1) * pool["max_size"] + 10 <= 100 - 3


def test_the_pool_is_sized_from_the_environment_or_turned_off():
    sized = probe({**PRODUCTION, "DATABASE_POOL_MAX": "3", "DATABASE_POOL_TIMEOUT": "0.5"})
    assert sized["pool"]["max_size"] == 3 and sized["pool"]["timeout"] == 0.5
    assert probe({**PRODUCTION, "DATABASE_POOL_MAX": "0"})["pool"] is None
    wrong = run([sys.executable, "-c", PROBE], {**PRODUCTION, "DATABASE_POOL_MAX": "many"})
    assert wrong.returncode != 0
    assert "DATABASE_POOL_MAX must be a number" in wrong.stderr


def test_production_without_a_secret_key_will_not_serve_but_still_runs_commands(tmp_path):
    env = {**PRODUCTION, "SQLITE_PATH": str(tmp_path / "db")}
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL"):
        del env[name]
    # Commands that sign nothing still run without the key …
    done = run([sys.executable, "manage.py", "migrate", "-v0"], env)
    assert done.returncode == 0, done.stderr
    # … but the server refuses to start, saying why.
    result = run([sys.executable, "-c", "import config.asgi"], env)
    assert result.returncode != 0
    assert "The SECRET_KEY setting must not be empty" in result.stderr
    deploy = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert deploy.returncode != 0 and "SECRET_KEY" in deploy.stderr


def test_check_deploy_with_production_settings_reports_nothing():
    result = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"], PRODUCTION
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_static_files_are_served_by_whitenoise_with_debug_off(tmp_path):
    env = {**PRODUCTION, "STATIC_ROOT": str(tmp_path), "ALLOWED_HOSTS": "testserver"}
    env.pop("DATABASE_URL")
    env.pop("REDIS_URL")
    env["SQLITE_PATH"] = str(tmp_path / "unused.sqlite3")
    collected = run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], env)
    assert collected.returncode == 0, collected.stderr
    fetch = """
import django
django.setup()
from django.templatetags.static import static
from django.test import Client
for name in ("django_htmx/htmx-2.min.js", "django_htmx/ext/hx-ws-2.min.js", "css/weishi.css"):
    url = static(name)
    assert ".min.js" not in url or len(url.split(".")) > 3, url  # a hashed name
    response = Client().get(url, secure=True)
    assert response.status_code == 200, (url, response.status_code)
    assert "immutable" in response["Cache-Control"], response["Cache-Control"]
print("served")
"""
    result = run([sys.executable, "-c", fetch], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "served"


@pytest.fixture(scope="module")
def migrated_database(tmp_path_factory) -> Path:
    """A SQLite database migrated by a fresh process, once for the module (each test that
    serves from it takes a copy)."""
    path = tmp_path_factory.mktemp("migrated") / "db.sqlite3"
    migrated = run(
        [sys.executable, "manage.py", "migrate", "-v0"], {"DEBUG": "1", "SQLITE_PATH": str(path)}
    )
    assert migrated.returncode == 0, migrated.stderr
    return path


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_the_app_serves_its_home_page_in_each_language_from_a_fresh_process(
    tmp_path, migrated_database, lang
):
    env = {"DEBUG": "1", "SQLITE_PATH": str(shutil.copy(migrated_database, tmp_path))}
    script = f"""
import django
django.setup()
from django.test import Client
page = Client(headers={{"accept-language": "{lang}"}}).get("/")
assert page.status_code == 200, page.status_code
print(page["Content-Language"])
"""
    result = run([sys.executable, "-c", script], {**env, "ALLOWED_HOSTS": "testserver"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == lang


# --- Where files are kept (MEDIA_STORAGE_BACKEND, MEDIA_STORAGE_OPTIONS) ----------------------


def test_files_go_to_the_store_the_environment_names():
    probe_storage = (
        "import django; django.setup()\n"
        "from django.core.files.storage import storages; s = storages['default']\n"
        "print(type(s).__module__ + '.' + type(s).__name__, s.base_location)"
    )
    local = run([sys.executable, "-c", probe_storage], {"DEBUG": "1", "MEDIA_ROOT": "/srv/m"})
    assert local.stdout.split() == [
        "django.core.files.storage.filesystem.FileSystemStorage",
        "/srv/m",
    ]
    shared = run(
        [sys.executable, "-c", probe_storage],
        {
            "DEBUG": "1",
            "MEDIA_STORAGE_BACKEND": "django.core.files.storage.InMemoryStorage",
            "MEDIA_STORAGE_OPTIONS": '{"location": "weishi-media"}',
        },
    )
    assert shared.returncode == 0, shared.stderr
    assert shared.stdout.split() == [
        "django.core.files.storage.memory.InMemoryStorage",
        "weishi-media",
    ]
    wrong = run(
        [sys.executable, "-c", probe_storage],
        {"DEBUG": "1", "MEDIA_STORAGE_OPTIONS": "bucket_name=weishi"},
    )
    assert wrong.returncode != 0 and "MEDIA_STORAGE_OPTIONS is not JSON" in wrong.stderr


def test_a_shared_store_never_replaces_a_file_by_another_of_the_same_name():
    from config.settings import media_storage

    s3 = media_storage("storages.backends.s3.S3Storage", '{"bucket_name": "weishi"}')
    assert s3 == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": "weishi", "file_overwrite": False},
    }
    with pytest.raises(ImproperlyConfigured, match="file_overwrite"):
        media_storage("storages.backends.s3.S3Storage", '{"file_overwrite": true}')


@pytest.mark.parametrize("acl", ["public-read", "public-read-write", "publicRead"])
def test_a_store_that_would_make_the_files_public_is_refused(acl):
    from config.settings import media_storage

    with pytest.raises(ImproperlyConfigured, match="must not make them public"):
        media_storage("storages.backends.s3.S3Storage", json.dumps({"default_acl": acl}))
    assert media_storage("", '{"default_acl": "private"}')["OPTIONS"] == {"default_acl": "private"}
