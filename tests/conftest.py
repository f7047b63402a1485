"""Shared fixtures: communities and people in every role, built through the services."""

import asyncio
import contextlib
import copy
import datetime as dt
import gettext as gettext_module
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connections
from django.test import Client, override_settings
from django.test.signals import setting_changed
from django.urls import reverse
from django.utils import translation
from hypothesis import settings as hypothesis_settings

from council import clock, services
from council.models import RoleKind, RoleStatus, SeatCategory
from council.search import FTS_TABLE
from tests.demo import Snapshot, seed_demo
from tests.factories import CommunityFactory, DistrictFactory, GridFactory, UserFactory

# These two cores are shared and noisy: no per-example deadline.
hypothesis_settings.register_profile("weishi", deadline=None, max_examples=60)
hypothesis_settings.load_profile("weishi")

# The password of every person of the test world (UserFactory and World.resident).
PASSWORD = "a-long-enough-password-42"

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
ON_REDIS = bool(os.environ.get("REDIS_URL"))


def compile_messages(locale: Path) -> bool:
    """Compile each ``.po`` under ``locale`` whose ``.mo`` is missing or older, as
    ``make messages`` does, and say whether any was; ``pytest.UsageError`` (saying to run it)
    if that cannot be done."""
    compiled = False
    for po in sorted(locale.rglob("*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        if shutil.which("msgfmt") is None:
            raise pytest.UsageError(
                f"{mo} is missing or older than its .po, and msgfmt (GNU gettext) is not "
                "installed to compile it: run `make messages` (apt-get install gettext first)"
            )
        done = subprocess.run(
            ["msgfmt", "--check-format", "-o", str(mo), str(po)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise pytest.UsageError(f"msgfmt could not compile {po}:\n{done.stderr}")
        compiled = True
    return compiled


def log_key_ensure() -> None:
    """The test log's signing key (``LOG_SIGNING_KEY_FILE``, for ``LOG_ORIGIN``), made on a
    fresh clone and shared with the servers the tests start; never committed (``var/``)."""
    path = Path(settings.LOG_SIGNING_KEY_FILE)
    if path.exists() and path.read_text().startswith(f"PRIVATE+KEY+{settings.LOG_ORIGIN}+"):
        return
    from council.evidence.checkpoints import log_key_create

    # Written beside and renamed: an xdist worker never reads half a key.
    partial = path.with_name(f"{path.name}.{os.getpid()}")
    log_key_create(partial, settings.LOG_ORIGIN)
    partial.replace(path)


def pytest_configure(config):
    log_key_ensure()
    # Tile files this process's tests write (and the servers they start): never the checkout's.
    tiles = tempfile.mkdtemp(prefix="weishi-log-tiles-")
    os.environ["LOG_TILES_ROOT"] = settings.LOG_TILES_ROOT = tiles
    # Pages are tested in Chinese: a fresh clone has no .mo files (they are not committed).
    compiled = [compile_messages(Path(locale)) for locale in settings.LOCALE_PATHS]
    if any(compiled):
        # Django read the catalogues when it set up, before this hook: have it read them again,
        # as after override_settings(LOCALE_PATHS=...). Python's gettext keeps each .mo it read
        # by path, so a recompiled one would still be read from that cache: empty it first.
        gettext_module._translations.clear()
        setting_changed.send(
            sender=type(settings), setting="LOCALE_PATHS", value=settings.LOCALE_PATHS, enter=False
        )


# How `make pytest` runs the suite, in three phases (`--phase`), each waiting for the one before:
#
# - parallel: every test not named below, spread over the cores (pytest-xdist);
# - browser: the browser tests (tests/e2e), spread over the cores too, among themselves only:
#   their waits allow for a busy machine, not for one also running the CPU-bound tests;
# - serial: the tests that must have the machine to themselves, one at a time (marked `serial`).
#   By path under tests/ (a folder or a file), and why:
SERIAL = {
    "load/": "production-shaped servers (nginx, several daphne workers) under load, timed",
    "council/test_redis_outage.py": "a Redis of its own stopped, paused and started again, "
    "with the outage's one-second timeouts and retries timed",
}
BROWSER = "e2e/"
# The browser files that take longest, first in the browser phase (each goes whole to one
# worker; `make pytest` keeps this order), so that the workers finish together instead of one
# starting the journey when the other is done.
BROWSER_FIRST = ("e2e/test_journey.py", "e2e/test_accessibility.py", "e2e/test_roles.py")
# Plain `pytest` runs them all, in one process.
TESTS = Path(__file__).resolve().parent
PHASES = ("parallel", "browser", "serial")


def pytest_addoption(parser):
    parser.addoption(
        "--phase",
        choices=PHASES,
        help="run only the tests of this phase of `make pytest` (tests/conftest.py says which)",
    )


def _where(path: Path) -> str:
    """The file's path relative to tests/."""
    return path.relative_to(TESTS).as_posix() if path.is_relative_to(TESTS) else ""


def _phase_of(path: Path) -> str:
    """The phase a test file's tests run in: by its path alone, so that a phase reads (and
    imports) only its own files."""
    where = _where(path)
    if any(where.startswith(serial) for serial in SERIAL):
        return "serial"
    return "browser" if where.startswith(BROWSER) else "parallel"


def _phase(item) -> str:
    return _phase_of(item.path)


def pytest_ignore_collect(collection_path, config):
    """With ``--phase``, the other phases' test files are not even imported (each phase's
    pytest and its workers would otherwise collect the whole suite, seconds each)."""
    phase = config.getoption("phase")
    if phase is None or not collection_path.name.startswith("test_"):
        return None
    if collection_path.suffix != ".py" or not collection_path.is_relative_to(TESTS):
        return None
    return True if _phase_of(collection_path) != phase else None


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "postgres" in item.keywords and not ON_POSTGRES:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))
        if "redis" in item.keywords and not ON_REDIS:
            item.add_marker(pytest.mark.skip(reason="needs Redis (set REDIS_URL)"))
        if _phase(item) == "serial":
            item.add_marker(pytest.mark.serial)
    phase = config.getoption("phase")
    if phase is not None:
        wanted, others = [], []
        for item in items:
            (wanted if _phase(item) == phase else others).append(item)
        config.hook.pytest_deselected(items=others)
        items[:] = wanted
    if phase == "browser":
        first = {path: rank for rank, path in enumerate(BROWSER_FIRST)}
        items.sort(key=lambda item: first.get(_where(item.path), len(first)))


def pytest_sessionfinish(session, exitstatus):
    """A run that executed no test is a failure, not a green build."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and exitstatus == 0 and not reporter.stats.get("passed"):
        session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED


def _clear_cache():
    """Empty the cache between tests: only our own keys when the cache is Redis, since
    ``cache.clear()`` would flush the whole Redis database, channel layer included."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        cache.clear()
        return
    if hasattr(backend, "_local"):  # council.cache.FallbackRedisCache's memory
        backend._local.clear()
    client = backend._cache.get_client(write=True)
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)


def _test_settings_overrides() -> dict:
    """The settings every test runs with, the session's demo seeding included."""
    return {
        # Hashing passwords with Argon2 costs ~50 ms each; tests are not about password strength.
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        # Tests render templates without running collectstatic first.
        "STORAGES": {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    }


# Services speak the active language; tests that read their messages read English.
# (Pages choose their language per request, Chinese by default, as in production.)
TEST_LANGUAGE = "en"


@pytest.fixture(autouse=True)
def _test_settings(settings):
    _clear_cache()
    translation.activate(TEST_LANGUAGE)
    for name, value in _test_settings_overrides().items():
        setattr(settings, name, value)


@pytest.fixture(autouse=True)
def _search_index_emptied_after_commits(request, django_db_blocker):
    """After a test whose writes commit (``django_db(transaction=True)``), Django empties every
    model's table but not SQLite's FTS5 mirror of the search index (council.search), which no
    model owns: it is emptied here, or later tests of the same process would find the entries
    left in it. (pytest-django runs such tests after all others of a process, but a parallel
    run may hand a process its tests in another order: ``--dist loadfile``, file by file.)"""
    yield
    marker = request.node.get_closest_marker("django_db")
    committed = "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction", False)
    )
    if committed and connections["default"].vendor == "sqlite":
        with django_db_blocker.unblock(), connections["default"].cursor() as cursor:
            cursor.execute(f"DELETE FROM {FTS_TABLE}")  # noqa: S608


def _snapshot(django_db_blocker, build) -> Snapshot:
    """``build()`` run once, with the tests' settings; its rows kept, the database left empty."""
    with (
        django_db_blocker.unblock(),
        override_settings(**_test_settings_overrides()),
        translation.override(TEST_LANGUAGE),
    ):
        snapshot = Snapshot.take(build)
        _clear_cache()  # what the build cached went with its rows
    return snapshot


@pytest.fixture(scope="session")
def demo_snapshot(django_db_setup, django_db_blocker) -> Snapshot:
    """``seed_demo`` run once per session (``value``: what it printed)."""
    return _snapshot(django_db_blocker, seed_demo)


@pytest.fixture
def demo_data(db, demo_snapshot):
    """The database as ``seed_demo`` leaves it (seeded once per session, put back here)."""
    demo_snapshot.restore()


def signs_in(username: str, password: str, **headers) -> bool:
    """Whether the sign-in form lets this person in, tried in a browser of their own.

    (``Client.login`` cannot: the sign-in throttle needs the request, which it does not pass.)
    """
    response = Client().post(
        reverse("login"), {"username": username, "password": password}, **headers
    )
    return response.status_code == 302


class World:
    """Two communities of one district (and a third in another district), people in every role.

    Attribute names say who is who: ``a_staff`` is staff of community ``a``, ``a_worker1`` the
    grid worker of ``a_grid1``, and so on.
    """

    def __init__(self):
        today = clock.today()
        self.district = DistrictFactory()
        self.other_district = DistrictFactory()
        window = {
            "collection_opens": today - dt.timedelta(days=10),
            "collection_closes": today + dt.timedelta(days=30),
        }
        self.a = CommunityFactory(sub_district__district=self.district, name="东湖社区", **window)
        self.b = CommunityFactory(sub_district__district=self.district, name="西岭社区", **window)
        self.c = CommunityFactory(sub_district__district=self.other_district, **window)
        self.a_grid1, self.a_grid2 = GridFactory(community=self.a), GridFactory(community=self.a)
        self.b_grid1 = GridFactory(community=self.b)

        self.admin = self.person("admin", RoleKind.DISTRICT_ADMIN, district=self.district)
        self.other_admin = self.person(
            "other_admin", RoleKind.DISTRICT_ADMIN, district=self.other_district
        )
        self.a_staff = self.person("a_staff", RoleKind.STAFF, community=self.a)
        self.b_staff = self.person("b_staff", RoleKind.STAFF, community=self.b)
        self.a_worker1 = self.person(
            "a_worker1", RoleKind.GRID_WORKER, community=self.a, grid=self.a_grid1
        )
        self.a_worker2 = self.person(
            "a_worker2", RoleKind.GRID_WORKER, community=self.a, grid=self.a_grid2
        )
        self.b_worker = self.person(
            "b_worker", RoleKind.GRID_WORKER, community=self.b, grid=self.b_grid1
        )
        self.a_expert = self.person("a_expert", RoleKind.EXPERT, community=self.a)
        self.a_resident = self.resident(self.a, self.a_grid1, "a_resident", phone="13911112222")
        self.a_member = self.resident(self.a, self.a_grid2, "a_member", phone="13933334444")
        services.role_assign(
            actor=None,
            user=self.a_member.user,
            kind=RoleKind.COUNCIL_MEMBER,
            community=self.a,
            seat_category=SeatCategory.NON_REGISTERED,
        )
        self.b_resident = self.resident(self.b, self.b_grid1, "b_resident", phone="13955556666")

    def user(self, name):
        """The user behind a name in this world, whether it names a user or a residency."""
        who = getattr(self, name)
        return getattr(who, "user", who)

    def person(self, username, kind, **where):
        user = UserFactory(username=username)
        role = services.role_assign(actor=None, user=user, kind=kind, **where)
        # Set up from the command line, so active at once, but for a grid worker: one acts once
        # staff confirm them (the world's staff are its communities' first, no granter).
        if role.status == RoleStatus.PENDING:
            staff = where["community"].roles.filter(kind=RoleKind.STAFF).first().user
            services.role_confirm(actor=staff, role=role)
        return user

    def resident(self, community, grid, username, *, confirm=True, **private):
        # A phone number is one resident's in a district: each gets their own unless told.
        self.phones_given = getattr(self, "phones_given", 0) + 1
        data = {
            "phone": f"137{self.phones_given:08d}",
            "id_number": "11010519491231002X",
            "address": f"{community.name}幸福路{len(username)}号",
            "household_status": "registered",
            **private,
        }
        residency = services.resident_sign_up(
            username=username,
            password="a-long-enough-password-42",
            display_name=f"居民{username}",
            email=f"{username}@example.org",
            community=community,
            grid=grid,
            consent=True,
            **data,
        )
        if confirm:
            staff = community.roles.filter(kind=RoleKind.STAFF).first().user
            services.resident_confirm(actor=staff, residency=residency)
        residency.refresh_from_db()
        return residency


@pytest.fixture(scope="session")
def world_snapshot(django_db_setup, django_db_blocker) -> Snapshot:
    """The :class:`World`, built once per session."""
    return _snapshot(django_db_blocker, World)


@pytest.fixture
def world(db, world_snapshot) -> World:
    """A :class:`World` of this test's own: the session's rows put back, and a copy of its
    objects (a test may change them)."""
    world_snapshot.restore()
    return copy.deepcopy(world_snapshot.value)


async def _relays_settled():
    """Let the presence and board relays of this test's loop finish what they started (a
    write after the last socket left): one cut off when the loop closes would leave the
    consumers' one database thread waiting on that loop for ever, and every later test's
    sockets with it."""
    from council import consumers
    from voting import consumers as board_consumers

    loop = asyncio.get_running_loop()
    for relays in (consumers._relays, board_consumers._relays):
        for relay in [r for r in list(relays.values()) if r.loop is loop]:
            task = relay.debounce.task
            if task is not None and not task.done():
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(task, timeout=10)
            async with relay.lock:
                pass
    # The audiences' first notes, made in the background.
    for relay in [r for r in list(consumers._relays.values()) if r.loop is loop]:
        await asyncio.gather(*relay.notes, return_exceptions=True)


@pytest.fixture
async def fresh_channel_layer():
    """A channel layer of this test's own event loop (a Redis layer's locks and pools belong
    to the loop that made them), emptied afterwards; and the database connection of the
    consumers' thread closed, so the test database can be dropped."""
    channel_layers.backends.clear()
    yield
    await _relays_settled()
    layer = channel_layers.backends.pop(DEFAULT_CHANNEL_LAYER, None)
    if layer is not None and hasattr(layer, "flush"):
        await layer.flush()
    await database_sync_to_async(connections.close_all)()
