"""Weishi settings: one module, read from the environment.

The defaults serve ``make run`` on one machine (SQLite, in-memory channel layer). Production
sets ``DATABASE_URL`` (PostgreSQL), ``REDIS_URL`` (channel layer and cache), ``SECRET_KEY``,
``ALLOWED_HOSTS`` and leaves ``DEBUG`` off.
"""

import json
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

# Required with DEBUG off. Left empty, Django refuses anything that signs (sessions, CSRF,
# password resets) with "The SECRET_KEY setting must not be empty", while commands that sign
# nothing (makemigrations, collectstatic) still run.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY and DEBUG:
    # Only for `make run` on one's own machine; never used with DEBUG off.
    SECRET_KEY = "django-insecure-weishi-local-development-only"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "daphne",  # first: its runserver and ASGI handling take precedence
    "council.apps.WeishiAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_htmx",
    "rules.apps.AutodiscoverRulesConfig",
    "axes",
    "council",
    "proposals",
    "voting",
    "disclosure",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "council.middleware.PasswordMustChangeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "council.context_processors.weishi",
            ],
            "builtins": ["django.templatetags.i18n", "django.templatetags.static"],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
# SQLite in WAL mode with IMMEDIATE transactions and a busy timeout, so that daphne and the
# minute scheduler (two processes) can both write without "database is locked".
SQLITE_PATH = os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3"))
DATABASE_URL = os.environ.get("DATABASE_URL", "")


def env_number(name: str, default: float, *, minimum: float = 0) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is None or number != number or number < minimum:  # also NaN
        raise ImproperlyConfigured(f"{name} must be a number of at least {minimum}, not {value!r}")
    return number


if DATABASE_URL:
    # Django's psycopg connection pool, one per process. A request borrows a connection and
    # gives it back when it ends, instead of opening one (bench/servers.py prices the
    # difference). CONN_MAX_AGE stays 0, as the pool requires. A page worker (gunicorn, sync)
    # answers one request at a time; a WebSocket worker (daphne) runs its consumers' queries
    # in one thread; so a few connections a process are plenty (tests/load/test_pool.py saw
    # at most 2 under 200 requests at once). A request that finds every connection lent waits
    # up to DATABASE_POOL_TIMEOUT seconds, then gets the 503 page (config.error_views). Size:
    # (page workers + WebSocket workers + the scheduler) × DATABASE_POOL_MAX, on every
    # machine, + ~10 for commands must stay under PostgreSQL's max_connections (100 by
    # default; see the README, "Deploying").
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)
    }
    DATABASES["default"].setdefault("TEST", {})
    DATABASES["default"]["TEST"]["NAME"] = os.environ.get("TEST_DATABASE_NAME", "weishi_test")
    DATABASE_POOL_MAX = int(env_number("DATABASE_POOL_MAX", 4))
    if DATABASE_POOL_MAX:  # 0: no pool, a connection per request (behind PgBouncer, say)
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            # Opened at the first query; kept down to min_size when idle for max_idle seconds.
            "min_size": min(int(env_number("DATABASE_POOL_MIN", 2)), DATABASE_POOL_MAX),
            "max_size": DATABASE_POOL_MAX,
            "timeout": env_number("DATABASE_POOL_TIMEOUT", 5, minimum=0.1),
            "max_idle": 300,
            "name": "weishi",
        }
    # The evidence append (every act's one INSERT) runs as a prepared statement on each
    # connection. Django keeps prepared statements off by default for the sake of poolers in
    # transaction mode; Django's own pool keeps them, and so does PgBouncer from 1.21 with
    # max_prepared_statements set. Turn it off behind an older pooler.
    DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
    if DATABASE_PREPARED_STATEMENTS:
        # psycopg prepares nothing with the threshold Django sets (None). Only a cursor that
        # binds on the server prepares, and only the append's is one (council.evidence).
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
else:
    DATABASE_PREPARED_STATEMENTS = False
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                ),
            },
            "TEST": {"NAME": os.environ.get("TEST_SQLITE_PATH") or None},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channels and cache ---------------------------------------------------------------------


def redis_database_moved(url: str, by: int) -> str:
    """``url`` naming the Redis database ``by`` past the one it names (0 when it names none),
    where redis-py reads it: the ``db`` query parameter if there is one, else the path of a
    ``redis://`` or ``rediss://`` URL, else (``unix://``) a ``db`` parameter added."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if "db" in query or parts.scheme not in {"redis", "rediss"}:
        query["db"] = [str(int(query.get("db", ["0"])[0]) + by)]
        return urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
    return urlunsplit(parts._replace(path=f"/{int(parts.path.strip('/') or 0) + by}"))


REDIS_URL = os.environ.get("REDIS_URL", "")
# The test suite's parallel workers (pytest-xdist names them gw0, gw1, … in
# PYTEST_XDIST_WORKER, which processes they start inherit) share one Redis: each takes the
# database REDIS_URL names plus its number, so that one worker emptying the cache or the
# channel layer between its tests never empties another's. Never set outside the tests.
if REDIS_URL and os.environ.get("PYTEST_XDIST_WORKER", "").startswith("gw"):
    REDIS_URL = redis_database_moved(REDIS_URL, int(os.environ["PYTEST_XDIST_WORKER"][2:]))
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # channels-redis's layer, which tells consumers when Redis is unreachable instead
            # of crashing them (council.realtime): they close with 4013, browsers back off.
            "BACKEND": "council.realtime.RedisChannelLayer",
            # redis-py 8 caps the asyncio pool at 100 connections by default: ~100 sockets
            # would then fail with MaxConnectionsError (see shared/STACK.md).
            # socket_timeout None: redis-py 8's default (5 s) equals channels-redis's blocking
            # read, so idle consumers would die with "Timeout reading" (channels_redis#422).
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "max_connections": 1000,
                        "socket_timeout": None,
                        "socket_connect_timeout": 2,
                    }
                ]
            },
        }
    }
    CACHES = {
        "default": {
            # Django's RedisCache, falling back to each process's memory while Redis is away.
            "BACKEND": "council.cache.FallbackRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "weishi",
            # Short: a cache call is one round trip; a hung Redis must not hold a request.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "council.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out attempt before any password is checked (council.signin).
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    # A username, or a resident's mobile number standing for it (council.signin).
    "council.signin.SignInBackend",
    # Never reached by a sign-in (SignInBackend ends every attempt); kept for login(backend=…).
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# --- Sign-in throttling (council.signin, django-axes on the shared cache) -------------------
# Wrong passwords per account (the username typed, existing or not) and per client address,
# counted in the cache (Redis in production: every worker sees the same counts). Reaching a
# limit locks that account, or that address, for SIGNIN_LOCKOUT_MINUTES after the last counted
# failure; the grid worker or staff unlock an account from the resident's page.
SIGNIN_ACCOUNT_FAILURES = int(os.environ.get("SIGNIN_ACCOUNT_FAILURES", "5"))
SIGNIN_ADDRESS_FAILURES = int(os.environ.get("SIGNIN_ADDRESS_FAILURES", "30"))
SIGNIN_LOCKOUT_MINUTES = int(os.environ.get("SIGNIN_LOCKOUT_MINUTES", "15"))
# Password reset emails: at most so many requests per email address typed and per client
# address within the window (whether or not an account has that email address).
PASSWORD_RESETS_PER_EMAIL = int(os.environ.get("PASSWORD_RESETS_PER_EMAIL", "3"))
PASSWORD_RESETS_PER_ADDRESS = int(os.environ.get("PASSWORD_RESETS_PER_ADDRESS", "10"))
PASSWORD_RESET_WINDOW_MINUTES = int(os.environ.get("PASSWORD_RESET_WINDOW_MINUTES", "60"))
# The reverse proxy's own address(es): only a request whose TCP peer is one of these has its
# client address read from X-Forwarded-For — the last entry, which nginx sets to $remote_addr
# (deploy/nginx.conf). Any other request's address is its peer's, whatever headers it sends.
TRUSTED_PROXIES = frozenset(env_list("TRUSTED_PROXIES", "127.0.0.1,::1"))

AXES_HANDLER = "council.signin.SignInThrottle"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = max(SIGNIN_ACCOUNT_FAILURES, SIGNIN_ADDRESS_FAILURES)  # each has its own
AXES_COOLOFF_TIME = timedelta(minutes=SIGNIN_LOCKOUT_MINUTES)
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the lock ends when the form said
AXES_USERNAME_CALLABLE = "council.signin.axes_username"
AXES_CLIENT_IP_CALLABLE = "council.signin.client_ip"
AXES_ENABLE_ADMIN = False  # the counts live in the cache, not in axes' tables
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# Axes' middleware turns a lockout into a page of its own (and its ASGI path passes the wrong
# arguments to a custom one): the sign-in views show the lockout on the form instead.
SILENCED_SYSTEM_CHECKS = ["axes.W002"]

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_TZ = True
# A file holding seconds that council.clock.now() adds (a test server's movable clock). Only a
# test settings module sets it; it is deliberately not read from the environment.
CLOCK_OFFSET_FILE = None

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# The site's public address (https://weishi.example.cn): printed on published PDFs and
# notices as the place to verify them, and used in notification emails. Set it in production
# before anything is published: a published PDF never changes.
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")

# --- The transparency log (docs/transparency-log.md) -----------------------------------------
# Its name, in its checkpoints and its key: the site's address without the scheme, + "/log".
LOG_ORIGIN = os.environ.get("LOG_ORIGIN") or (
    (SITE_URL.split("://", 1)[-1] or "weishi.invalid") + "/log"
)
# The file holding the log's Ed25519 signing key (`manage.py log_key --create FILE`): never in
# the database or the repository. `make run` keeps one in var/; a server without one refuses
# to start (config/asgi.py).
LOG_SIGNING_KEY_FILE = os.environ.get("LOG_SIGNING_KEY_FILE", "") or (
    "var/log-signing.key" if DEBUG else ""
)
if LOG_SIGNING_KEY_FILE:  # a relative path is the checkout's
    LOG_SIGNING_KEY_FILE = str(BASE_DIR / LOG_SIGNING_KEY_FILE)
# Where the sequencer writes the log's full tiles and entry bundles as files, once each, for
# nginx to serve itself (deploy/nginx.conf: `location /log/tile/`); storage every worker, the
# scheduler and nginx share. The app serves them too (and the partial ones) when asked.
LOG_TILES_ROOT = Path(os.environ.get("LOG_TILES_ROOT", BASE_DIR / "var" / "log-tiles"))
# The witnesses asked to cosign each checkpoint: "URL VERIFIER-KEY" pairs separated by ";".
LOG_WITNESSES = [
    tuple(pair.split()) for pair in os.environ.get("LOG_WITNESSES", "").split(";") if pair.strip()
]
if any(len(pair) != 2 for pair in LOG_WITNESSES):
    raise ImproperlyConfigured(
        'LOG_WITNESSES holds "URL VERIFIER-KEY" pairs separated by ";", e.g. '
        '"https://witness.example.org witness.example.org+1a2b3c4d+BA…"'
    )

MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Every file the app keeps (uploaded photos and documents, progress photos, published PDFs)
# goes through the "default" storage, never a path under MEDIA_ROOT: on one machine that is
# the MEDIA_ROOT folder; with workers on several machines, a store they all reach, named here.
LOCAL_MEDIA_STORAGE = "django.core.files.storage.FileSystemStorage"
# django-storages' backends that, unlike Django's own, replace a file of the same name by
# default: two residents' "IMG_0001.jpg" in one month would be one file.
OVERWRITING_STORAGES = {
    "storages.backends.s3.S3Storage",
    "storages.backends.s3boto3.S3Boto3Storage",
    "storages.backends.gcloud.GoogleCloudStorage",
}


def media_storage(backend: str, options: str) -> dict:
    """The ``STORAGES["default"]`` entry for a backend's dotted path (empty: the MEDIA_ROOT
    folder) and its options as a JSON object (empty: none). Guarantees that a stored file is
    never replaced by another of the same name and that no option makes the files public;
    raises ``ImproperlyConfigured`` saying what is wrong otherwise."""
    backend = backend.strip() or LOCAL_MEDIA_STORAGE
    try:
        parsed = json.loads(options) if options.strip() else {}
    except ValueError as error:
        raise ImproperlyConfigured(
            f"MEDIA_STORAGE_OPTIONS is not JSON ({error}): write an object, e.g. "
            '{"bucket_name": "weishi-media", "endpoint_url": "https://s3.example.cn"}'
        ) from None
    if not isinstance(parsed, dict):
        raise ImproperlyConfigured("MEDIA_STORAGE_OPTIONS must be a JSON object: {...}")
    if backend in OVERWRITING_STORAGES:
        parsed.setdefault("file_overwrite", False)
    if parsed.get("file_overwrite"):
        raise ImproperlyConfigured(
            "MEDIA_STORAGE_OPTIONS: file_overwrite would let one upload replace another of "
            "the same name; leave it out"
        )
    if str(parsed.get("default_acl") or "").startswith("public"):
        raise ImproperlyConfigured(
            "MEDIA_STORAGE_OPTIONS: the stored files include private ones (photos of "
            "proposals not yet public); the app serves them after its checks, so the store "
            "must not make them public: leave default_acl out or make it private"
        )
    return {"BACKEND": backend, "OPTIONS": parsed}


# WhiteNoise serves static files in every mode (plain daphne serves none). With DEBUG on it
# reads them from the apps' folders; with DEBUG off from `collectstatic`'s hashed copies.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": media_storage(
        os.environ.get("MEDIA_STORAGE_BACKEND", ""), os.environ.get("MEDIA_STORAGE_OPTIONS", "")
    ),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Email ----------------------------------------------------------------------------------
# Console email for `make run`; SMTP (EMAIL_HOST, …) in production.
if DEBUG or os.environ.get("EMAIL_BACKEND"):
    MAILERS = {
        "default": {
            "BACKEND": os.environ.get(
                "EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
            )
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ.get("EMAIL_HOST", "localhost"),
                "port": int(os.environ.get("EMAIL_PORT", "25")),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", False),
                # Only the scheduler and send_digests send email (council.mail), never a
                # request; a mail server that does not answer costs a run this much once,
                # and the email is left for the next run.
                "timeout": int(os.environ.get("EMAIL_TIMEOUT", "10")),
            },
        }
    }
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "weishi@localhost")

# --- Security -------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads nothing from it: the token travels in hx-headers
CSRF_FAILURE_VIEW = "config.error_views.csrf_failure"  # the 403 page, in the reader's language
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
# Behind the reverse proxy, which terminates TLS and says so.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"database_busy": {"()": "config.error_views.DatabaseBusyLogFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # A busy page (503: no pooled connection in time) is one line, not a traceback each.
        "django.request": {"filters": ["database_busy"]},
        "daphne": {"level": "WARNING"},
        "django.channels.server": {"level": "WARNING"},
        # WeasyPrint logs every step of every PDF at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
