"""Settings for Smart Attendance: one module, configured by environment variables.

Every variable is documented in `.env.example`. An optional `.env` file at the project root is
read first; real environment variables win over it. Bad values raise ImproperlyConfigured at start.
"""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from datetime import timedelta
from pathlib import Path
from typing import Any, overload

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """A boolean variable; anything but a recognised spelling is a configuration error."""
    raw = env.str(name, default=str(default)).strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


@overload
def env_number(name: str, default: int, *, cast: type[int] = int, minimum: float | None = None,
               maximum: float | None = None) -> int: ...
@overload
def env_number(name: str, default: float, *, cast: type[float], minimum: float | None = None,
               maximum: float | None = None) -> float: ...
def env_number(name: str, default: float, *, cast: type[Any] = int, minimum: float | None = None,
               maximum: float | None = None) -> Any:
    """A numeric variable checked against its bounds."""
    raw = env.str(name, default=str(default))
    try:
        value = cast(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a {cast.__name__}, not {raw!r}") from exc
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ImproperlyConfigured(f"{name}={value} is outside {minimum}..{maximum}")
    return value


def env_rate(name: str, default: str) -> str:
    """A throttle rate such as 30/min or 20/hour (DRF's format)."""
    value = env.str(name, default=default).strip()
    if not re.match(r"^[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)$", value):
        raise ImproperlyConfigured(f"{name} must be a rate such as 30/min or 20/hour, not {value!r}")
    return value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.str(name, default=default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def env_networks(name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Address ranges, comma-separated (10.20.0.0/16,2001:db8::/48; a single address is a /32 or /128)."""
    networks = []
    for item in env.list(name, default=[]):
        if not item.strip():
            continue
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {item!r} is not an address range such as 10.20.0.0/16") from exc
    return tuple(networks)


# --- Core -----------------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", False)
# A development key is allowed only with DEBUG on; production must set its own.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-development-key-only-used-with-debug-on"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# "web" serves the whole product; "recognition" serves only the recognition HTTP API so the ML
# can run as its own service (SPEC §2.4).
SERVICE_ROLE = env_choice("SERVICE_ROLE", "web", ("web", "recognition"))

# --- Applications ---------------------------------------------------------------------------

CLOUDINARY_URL = env.str("CLOUDINARY_URL", default="")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # Cloudinary's app must come after staticfiles, and it raises at import without credentials,
    # so it is only installed when CLOUDINARY_URL is set.
    *(["cloudinary_storage", "cloudinary"] if CLOUDINARY_URL else []),
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    # Swagger UI and ReDoc served from our own static files: the docs page works offline.
    "drf_spectacular_sidecar",
    # Login throttling and lockout for the pages, the admin and the API's token endpoint.
    "axes",
    "django_prometheus",
    "school",
    "accounts",
    "classes",
    "attendance",
    "recognition",
]

MIDDLEWARE = [
    # Request latency and counts for /metrics (django-prometheus): first and last so it times everything.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "school.middleware.RequestIDMiddleware",
    # Refuses an oversized body from its Content-Length before any of it is read (413).
    "school.middleware.RequestSizeLimitMiddleware",
    # A refusal a page did not show itself answers its status and message, never a 500 (school/errors.py).
    "school.middleware.DomainErrorPageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Every read of biometric data or a report (page or API) writes an access-log entry (school/access_log.py).
    "school.access_log.AccessLogMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "smart_attendance.urls_recognition" if SERVICE_ROLE == "recognition" else "smart_attendance.urls"
WSGI_APPLICATION = "smart_attendance.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "school.clock.school_time_context",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # the default SQLite file and media live here
try:
    DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
except Exception as exc:  # django-environ raises several types for a malformed URL
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
if not DATABASES["default"].get("ENGINE"):
    raise ImproperlyConfigured("DATABASE_URL is set but names no known database engine.")
DATABASES["default"]["CONN_MAX_AGE"] = env_number("CONN_MAX_AGE", 60, minimum=0)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Concurrent page and API requests wait for SQLite's write lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # A transaction takes the write lock when it begins: one that read first and then wrote could not
    # wait for another writer (SQLite answers "database is locked" at once to avoid a deadlock), which
    # 30 pupils checking in at the same moment showed (benchmarks/live.py).
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    # Write-ahead log: readers never wait for the writer, nor the writer for readers.
    DATABASES["default"]["OPTIONS"]["init_command"] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication -------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
# django-axes checks every authenticate() call (login page, admin, API token) before the real backend.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation -------------------------------------------------------------------

LANGUAGE_CODE = "en-gb"
# The school's time zone: every "today", timetable period, lateness and report is in it (SPEC §3).
# SCHOOL_TIME_ZONE wins over TIME_ZONE (kept for existing deployments); an unknown name stops the start.
TIME_ZONE = env.str("SCHOOL_TIME_ZONE", default="") or env.str("TIME_ZONE", default="UTC")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
    raise ImproperlyConfigured(f"SCHOOL_TIME_ZONE/TIME_ZONE {TIME_ZONE!r} is not a time zone name") from exc
USE_I18N = True
USE_TZ = True

# --- Static files and media -----------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # The manifest storage needs collectstatic; with DEBUG on, files are served from the source tree.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
if CLOUDINARY_URL:
    # Faces are biometric data: authenticated delivery, read back through expiring signed URLs only.
    STORAGES["default"] = {"BACKEND": "school.storage.PrivateMediaCloudinaryStorage"}

# Uploads: the largest accepted file (photo or roster) in bytes.
MAX_UPLOAD_BYTES: int = env_number("MAX_UPLOAD_BYTES", 15 * 1024 * 1024, minimum=1024)
# Request bodies other than file uploads: the recognition API carries images as base64 (4/3 larger).
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES * 4 // 3 + 1024 * 1024
# Any request whose Content-Length is larger is refused (413) before its body is read: multipart
# file parts are not counted by DATA_UPLOAD_MAX_MEMORY_SIZE, so this is what bounds them.
MAX_REQUEST_BYTES = DATA_UPLOAD_MAX_MEMORY_SIZE
# File parts above this size are spooled to a temporary file instead of memory (Django's default).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# A roster CSV: its size and row count are capped before and while it is read.
ROSTER_MAX_BYTES: int = env_number("ROSTER_MAX_BYTES", 2 * 1024 * 1024, minimum=1024)
ROSTER_MAX_ROWS: int = env_number("ROSTER_MAX_ROWS", 5000, minimum=1)

# --- E-mail ---------------------------------------------------------------------------------

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT: int = env_number("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
# Where django.core.mail.backends.filebased.EmailBackend writes messages (development, tests).
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Smart Attendance <attendance@localhost>")
# The school's public address: links in e-mails (invitations, guardians' links) start with it.
SITE_URL = env.str("SITE_URL", default="http://localhost:8000")
# Password reset and invitation links: one use, and they expire after this many days.
PASSWORD_RESET_TIMEOUT = int(env_number("PASSWORD_RESET_DAYS", 3, minimum=1, maximum=30)) * 86400
# Guardians' signed links (attendance, consent) expire after this many days; a school can revoke them sooner.
GUARDIAN_LINK_MAX_AGE_DAYS = int(env_number("GUARDIAN_LINK_MAX_AGE_DAYS", 30, minimum=1, maximum=365))

# --- Security -------------------------------------------------------------------------------

SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
# The recognition role is an internal service called over the private network: no redirect by default.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG and SERVICE_ROLE == "web")
# Probes and scrapers call these over plain HTTP on the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS: int = env_number("SECURE_HSTS_SECONDS", 0 if DEBUG else 60 * 60 * 24 * 365, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Behind a TLS-terminating proxy, trust its X-Forwarded-Proto header.
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# --- Abuse limits: cache, proxies, login lockout ---------------------------------------------

# Throttle counters live in the default cache. With several worker processes they must share one
# (REDIS_URL, or any CACHE_URL django-environ understands); otherwise each process counts alone.
# A Redis cache falls back to the process's local cache while Redis fails (school/cache.py): an
# outage degrades the limits to per-process counting instead of answering 500.
_redis_url = env.str("REDIS_URL", default="")
_REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"
# A Redis that does not answer is given up quickly (then the local fallback serves).
_REDIS_SOCKET_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2}
if env.str("CACHE_URL", default=""):
    try:
        CACHES = {"default": env.cache_url("CACHE_URL")}
    except Exception as exc:  # django-environ raises several types for a malformed URL
        raise ImproperlyConfigured(f"CACHE_URL is not a valid cache URL: {exc}") from exc
elif _redis_url:
    CACHES = {"default": {"BACKEND": _REDIS_CACHE, "LOCATION": _redis_url}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if CACHES["default"]["BACKEND"] == _REDIS_CACHE:
    CACHES["default"]["BACKEND"] = "school.cache.FallbackRedisCache"
    CACHES["default"]["OPTIONS"] = {**_REDIS_SOCKET_OPTIONS, **CACHES["default"].get("OPTIONS", {})}

# Reverse proxies in front of the app that append the client's address to X-Forwarded-For.
NUM_PROXIES: int = env_number("NUM_PROXIES", 0, minimum=0, maximum=5)

# django-axes: a username is locked after LOGIN_FAILURE_LIMIT wrong passwords in a row, for
# LOGIN_LOCKOUT_MINUTES: for one client IP, except on a device that has logged in as that user before
# (a signed device cookie, accounts/devices.py), which is counted on its own. So a pupil behind the
# school's NAT cannot lock the teacher's own devices out; attempts are kept in the database, shared by every
# worker (axes' database handler: a Redis outage does not touch the lockout).
AXES_FAILURE_LIMIT: int = env_number("LOGIN_FAILURE_LIMIT", 5, minimum=1, maximum=100)
AXES_COOLOFF_TIME = timedelta(minutes=env_number("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = "accounts.devices.axes_lockout_parameters"
AXES_USERNAME_CALLABLE = "accounts.devices.axes_username"
# How long a device that logged in stays trusted (its cookie's lifetime, renewed at each login).
LOGIN_TRUSTED_DEVICE_DAYS: int = env_number("LOGIN_TRUSTED_DEVICE_DAYS", 90, minimum=1, maximum=400)
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "school.api.throttling.axes_client_ip"
AXES_LOCKOUT_CALLABLE = "school.pages.login_locked_out"
AXES_VERBOSE = False
# Failed attempts are kept (until the cool-off expires); successful logins are not logged with their
# IP address and browser: Django's last_login is enough, and pupils' logins are personal data.
AXES_DISABLE_ACCESS_LOG = True

# --- REST API -------------------------------------------------------------------------------

REST_FRAMEWORK = {
    # `?format=csv` is the report's own parameter; errors stay JSON whatever the query says.
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        # Lets a logged-in teacher use the browsable API and the pages' fetch() calls.
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "school.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    # JSON bodies; only the views that take a file accept multipart forms (their own parser_classes).
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        "school.api.filters.StrictFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "school.api.openapi.SchoolAutoSchema",
    "EXCEPTION_HANDLER": "school.api.errors.exception_handler",
    # Scoped limits (school/api/throttling.py), the same for the API and the pages.
    "DEFAULT_THROTTLE_RATES": {
        # Login attempts (API token, login page, admin login, password reset) per account name and client IP.
        "auth": env_rate("AUTH_THROTTLE_RATE", "20/min"),
        # All of them per client IP: a school's NAT is one address for hundreds of pupils at the bell,
        # so this bounds spraying many names without making the school one small budget.
        "auth_address": env_rate("AUTH_ADDRESS_THROTTLE_RATE", "600/min"),
        # Classroom photos per user (session uploads and one-shot marking).
        "photo_upload": env_rate("PHOTO_UPLOAD_THROTTLE_RATE", "30/min"),
        # Face enrolments per user: a teacher enrolling a class of 30 with two photos each in one hour.
        "face_enrol": env_rate("FACE_ENROL_THROTTLE_RATE", "60/hour"),
        # Roster CSV imports per user (each may write thousands of rows).
        "roster_import": env_rate("ROSTER_IMPORT_THROTTLE_RATE", "20/hour"),
        # Calls to the recognition HTTP API (/api/ml/*) per calling IP address.
        "recognition_api": env_rate("RECOGNITION_API_THROTTLE_RATE", "600/min"),
        # Live-mode webcam frames per user: one a second, with room for a second device.
        "live_frame": env_rate("LIVE_FRAME_THROTTLE_RATE", "120/min"),
    },
    # Times of the school day are wall-clock times, "09:00" or "09:00:00" (the schema's pattern says so).
    "TIME_INPUT_FORMATS": ["%H:%M:%S", "%H:%M"],
    # How many reverse proxies append to X-Forwarded-For in front of the app: 0 = use the
    # connection's address and ignore the header (a client could write anything into it).
    "NUM_PROXIES": NUM_PROXIES,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_number("JWT_ACCESS_MINUTES", 15, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_number("JWT_REFRESH_DAYS", 7, minimum=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    # Every token carries a digest of the password hash it was issued under: a password change
    # (any way: API, admin, reset, `changepassword`) revokes every access and refresh token before it.
    "CHECK_REVOKE_TOKEN": True,
    "TOKEN_REFRESH_SERIALIZER": "accounts.tokens.RevocationCheckingRefreshSerializer",
    "TOKEN_VERIFY_SERIALIZER": "accounts.tokens.RevocationCheckingVerifySerializer",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Smart Attendance API",
    "DESCRIPTION": "Face-recognition attendance for schools: REST API for mobile apps.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files come from drf-spectacular-sidecar's static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Stable names for choice sets used by several serializers.
    "ENUM_NAME_OVERRIDES": {
        "RecordStatusEnum": "attendance.models.AttendanceRecord.Status",
        "ManualStatusEnum": "attendance.register.services.MANUAL_STATUSES",
        "SessionStateEnum": "attendance.models.AttendanceSession.State",
        "PhotoStateEnum": "attendance.models.SessionPhoto.State",
        "RecordSourceEnum": "attendance.models.AttendanceRecord.Source",
        "FaceSourceEnum": "recognition.models.FaceEmbedding.Source",
    },
}

# --- Recognition ----------------------------------------------------------------------------

_RECOGNITION_BACKENDS = {
    "local": "recognition.backends.local.DlibBackend",
    "remote": "recognition.backends.remote.HTTPBackend",
}
_backend_name = env.str("RECOGNITION_BACKEND", default="local")
RECOGNITION = {
    # A short name or a dotted path to any RecognitionBackend subclass.
    "BACKEND": _RECOGNITION_BACKENDS.get(_backend_name, _backend_name),
    "OPTIONS": {
        # auto = YuNet (small faces, recognition/detectors/yunet.py) where its wheel installs, else HOG.
        "DETECTOR": env_choice("RECOGNITION_DETECTOR", "auto", ("auto", "yunet", "hog", "cnn")),
        # Detection scheduling (recognition/detectors/): the smallest face a classroom scan finds,
        # and the largest copy of a photo that is scanned for faces (0 = the detector's own: YuNet
        # 20 px within 3.2 MP, HOG 40 px within 3.2 MP).
        "MIN_FACE_PIXELS": env_number("RECOGNITION_MIN_FACE_PIXELS", 0, minimum=0, maximum=400),
        # YuNet boxes under this confidence (0-100) are nobody; up to 88 they need HOG's second opinion.
        "MIN_DETECTION_CONFIDENCE": env_number("RECOGNITION_MIN_DETECTION_CONFIDENCE", 55, cast=float, minimum=0,
                                               maximum=100),
        # An enrolment photo's face must cover at least this share of it (SPEC §2.1: 0.05).
        "MIN_FACE_AREA_RATIO": env_number("RECOGNITION_MIN_FACE_AREA_RATIO", 0.05, cast=float, minimum=0.0,
                                          maximum=0.5),
        "DETECT_MAX_PIXELS": env_number("RECOGNITION_DETECT_MAX_PIXELS", 0, minimum=0, maximum=48_000_000),
        "ENROLMENT_JITTERS": env_number("RECOGNITION_ENROLMENT_JITTERS", 5, minimum=1, maximum=100),
        "CLASSROOM_JITTERS": env_number("RECOGNITION_CLASSROOM_JITTERS", 1, minimum=1, maximum=100),
        "URL": env.str("RECOGNITION_URL", default="http://127.0.0.1:8001"),
        "API_KEY": env.str("RECOGNITION_API_KEY", default=""),
        "TIMEOUT": env_number("RECOGNITION_TIMEOUT", 30, cast=float, minimum=0.1),
        "MAX_RETRIES": env_number("RECOGNITION_MAX_RETRIES", 3, minimum=0, maximum=10),
        # One deadline bounds a remote call with its retries: keep it below gunicorn's --timeout (60 s in
        # the README), so the breaker counts a failure instead of the worker being killed (a 502).
        "DEADLINE": env_number("RECOGNITION_DEADLINE", 45, cast=float, minimum=0.5, maximum=3600),
        "BREAKER_THRESHOLD": env_number("RECOGNITION_BREAKER_THRESHOLD", 5, minimum=1, maximum=1000),
        "BREAKER_RESET_SECONDS": env_number("RECOGNITION_BREAKER_RESET_SECONDS", 60, cast=float, minimum=0.1),
    },
}
# The key this process demands from callers of its own /api/ml/* routes (SPEC §2.4). Without it
# anyone who reaches the service could use it as a face-embedding oracle: the recognition role
# refuses to start without one unless DEBUG is on.
RECOGNITION_API_KEY = RECOGNITION["OPTIONS"]["API_KEY"]
if SERVICE_ROLE == "recognition" and not DEBUG and not RECOGNITION_API_KEY:
    raise ImproperlyConfigured("RECOGNITION_API_KEY must be set for SERVICE_ROLE=recognition when DEBUG is off")
# The web role serves /api/ml/* itself only when asked to, and then only behind the key.
RECOGNITION_API_ON_WEB = env_bool("RECOGNITION_API_ON_WEB", False)
if RECOGNITION_API_ON_WEB and not RECOGNITION_API_KEY:
    raise ImproperlyConfigured("RECOGNITION_API_ON_WEB=true needs RECOGNITION_API_KEY")
# Cost caps of one recognition API call (recognition/api.py): beyond them the call is refused (413),
# so no caller can ask for a 40k x 40k distance matrix or 100 jitters.
RECOGNITION_API_LIMITS = {
    "MAX_FACES": env_number("RECOGNITION_API_MAX_FACES", 200, minimum=1, maximum=10_000),
    "MAX_CANDIDATES": env_number("RECOGNITION_API_MAX_CANDIDATES", 2000, minimum=1, maximum=100_000),
    "MAX_EMBEDDINGS_PER_CANDIDATE": env_number("RECOGNITION_API_MAX_EMBEDDINGS_PER_CANDIDATE", 20, minimum=1,
                                               maximum=1000),
    "MAX_JITTERS": env_number("RECOGNITION_API_MAX_JITTERS", 10, minimum=1, maximum=100),
    # Detectors a caller may ask for; cnn is slow on a CPU, so only when this service is set up for it.
    # Detectors a caller may name: the cheap ones always; dlib's CNN (19 s for 1.6 MP on two cores) only
    # when this service itself is configured with it.
    "MODELS": ("yunet", "hog", "auto", *(("cnn",) if RECOGNITION["OPTIONS"]["DETECTOR"] == "cnn" else ())),
}
# Decoding limits for every uploaded image (decompression bombs, oversized uploads). A 48 MP phone
# photo (8000x6000) is the largest common camera; decoding one peaks near 7 bytes per pixel.
MAX_IMAGE_PIXELS: int = env_number("MAX_IMAGE_PIXELS", 48_000_000, minimum=10_000)
# Pixels decoded for one image, whatever its size: a larger JPEG is decoded at 1/2, 1/4 or 1/8 of it by
# the JPEG decoder (the full-size pixels never exist), a larger PNG or WebP (no reduced decoding) is refused.
# 24 MP keeps a 12 MP phone photo and a 24 MP camera's at full size and bounds a worker near 170 MB.
IMAGE_DECODE_MAX_PIXELS: int = env_number("IMAGE_DECODE_MAX_PIXELS", 24_000_000, minimum=1_000_000)
# Distances below the first are a confident match, below the second uncertain (SPEC §2.3).
RECOGNITION_CONFIDENT_THRESHOLD = 0.50
RECOGNITION_UNCERTAIN_THRESHOLD = 0.60
# A classroom face narrower than this (pixels) is "too small to identify": found and counted, never
# matched. benchmarks/small_faces.py: from 24 px every sample face is within 0.60 of its own enrolment
# (worst 0.49); at 20 px one in 13 is not, at 16 px 4 in 13, at 12 px 10 in 13.
RECOGNITION_MIN_IDENTIFIABLE_FACE_PIXELS: int = env_number("RECOGNITION_MIN_IDENTIFIABLE_FACE_PIXELS", 24,
                                                           minimum=0, maximum=400)

# --- Attendance and privacy -----------------------------------------------------------------

# Embeddings-only mode keeps no enrolment photo (then faces cannot be re-encoded after a model change).
FACE_KEEP_SOURCE_IMAGES = env_bool("FACE_KEEP_SOURCE_IMAGES", True)
MAX_FACES_PER_STUDENT: int = env_number("MAX_FACES_PER_STUDENT", 10, minimum=1, maximum=100)
# A new enrolment closer than this to one of the student's faces is a copy of it (409).
FACE_DUPLICATE_DISTANCE = env_number("FACE_DUPLICATE_DISTANCE", 0.2, cast=float, minimum=0.0, maximum=0.5)
# Children's faces change fast: a student younger than REENROL_YOUNG_AGE is asked for new photos when
# their newest face is REENROL_YOUNG_DAYS old (about a term), anyone else after REENROL_DAYS (a year).
# The age comes from the date of birth, else from the year group's number + YEAR_GROUP_AGE_OFFSET
# ("Year 3" is about 8); a student with neither is treated as older.
REENROL_YOUNG_AGE: int = env_number("REENROL_YOUNG_AGE", 10, minimum=0, maximum=30)
REENROL_YOUNG_DAYS: int = env_number("REENROL_YOUNG_DAYS", 120, minimum=1)
REENROL_DAYS: int = env_number("REENROL_DAYS", 365, minimum=1)
YEAR_GROUP_AGE_OFFSET: int = env_number("YEAR_GROUP_AGE_OFFSET", 5, minimum=0, maximum=10)
PHOTO_RETENTION_DAYS: int = env_number("PHOTO_RETENTION_DAYS", 30, minimum=1)
# Faces learned from confirmed classroom faces kept per student (a rolling window: the oldest learned one
# goes; enrolled faces never do). 0 turns learning off. Enrolled + learned stay within the remote
# service's RECOGNITION_API_MAX_EMBEDDINGS_PER_CANDIDATE (20).
FACE_LEARNED_PER_STUDENT: int = env_number("FACE_LEARNED_PER_STUDENT", 5, minimum=0, maximum=10)
# A confirmed face at least this far from every other face of the student is held for staff review
# instead of learned: one wrong assignment must not teach the system a wrong face (dlib's same-person line).
FACE_LEARN_MAX_DISTANCE = env_number("FACE_LEARN_MAX_DISTANCE", 0.6, cast=float, minimum=0.3, maximum=0.7)
AT_RISK_THRESHOLD_PERCENT: int = env_number("AT_RISK_THRESHOLD_PERCENT", 75, minimum=0, maximum=100)
# The calibration page suggests thresholds for a course's teacher only from at least this many decisions
# on the course's matches (confirmed or rejected); fewer say too little. An admin applies a suggestion.
CALIBRATION_MIN_DECISIONS: int = env_number("CALIBRATION_MIN_DECISIONS", 10, minimum=1)

# --- Live mode and self check-in (attendance/live/, attendance/checkin/) ------------------------------

# A student is marked by live mode after this many frames with a confident match (1 frame never suffices
# unless set so: one frame can be a passer-by).
LIVE_MIN_FRAMES = env_number("LIVE_MIN_FRAMES", 2, minimum=1, maximum=30)
# Live mode stops by itself after this many seconds.
LIVE_MAX_SECONDS = env_number("LIVE_MAX_SECONDS", 600, minimum=10, maximum=3 * 3600)
# A live frame is small: at most this many bytes and pixels (1920x1080).
LIVE_MAX_FRAME_BYTES = env_number("LIVE_MAX_FRAME_BYTES", 2 * 1024 * 1024, minimum=10_000)
LIVE_MAX_FRAME_PIXELS = env_number("LIVE_MAX_FRAME_PIXELS", 1920 * 1080, minimum=10_000)
# Live mode follows faces between frames and encodes only new or moved ones (attendance/live/tracking.py):
# a face is the same as one of the previous frame when their boxes overlap by this IoU and its surroundings
# changed by at most LIVE_TRACK_MAX_CHANGE (1 - correlation of the grey signatures); it is encoded again
# after LIVE_TRACK_MAX_AGE frames. LIVE_TRACKING=false encodes every face of every frame.
LIVE_TRACKING = env_bool("LIVE_TRACKING", True)
LIVE_TRACK_MIN_IOU = env_number("LIVE_TRACK_MIN_IOU", 0.6, cast=float, minimum=0.3, maximum=0.95)
LIVE_TRACK_MAX_CHANGE = env_number("LIVE_TRACK_MAX_CHANGE", 0.15, cast=float, minimum=0.0, maximum=0.5)
LIVE_TRACK_MAX_AGE = env_number("LIVE_TRACK_MAX_AGE", 10, minimum=1, maximum=120)
# How long a session's "frame in flight" flag may outlive a crashed worker.
LIVE_FRAME_LOCK_SECONDS = 30
# A check-in window stays open this many minutes unless the teacher closes it earlier.
CHECKIN_WINDOW_MINUTES = env_number("CHECKIN_WINDOW_MINUTES", 10, minimum=1, maximum=240)
# The QR code's token is valid this long; the page shows a new one every CHECKIN_QR_ROTATE_SECONDS.
CHECKIN_TOKEN_SECONDS = env_number("CHECKIN_TOKEN_SECONDS", 30, minimum=5, maximum=600)
CHECKIN_QR_ROTATE_SECONDS = env_number("CHECKIN_QR_ROTATE_SECONDS", 15, minimum=5, maximum=300)
# After scanning, a student has this long to send the selfie: the time to take it, so that a code sent
# to a friend outside goes stale while it travels (issue 19).
CHECKIN_SCAN_SECONDS = env_number("CHECKIN_SCAN_SECONDS", 60, minimum=15, maximum=600)
# The school's networks (the addresses its Wi-Fi's traffic comes from, as NUM_PROXIES reads them): a
# self check-in from elsewhere is at most pending. Empty: not configured, so every self check-in waits
# for the teacher or the classroom camera.
CHECKIN_NETWORKS = env_networks("CHECKIN_NETWORKS")
# The liveness step: the selfie's frames must show the head turning by at least this many degrees of
# yaw (a printed photo tilted in front of the camera moves about 7°; a head turn 20-50°).
CHECKIN_LIVENESS_MIN_YAW = env_number("CHECKIN_LIVENESS_MIN_YAW", 20.0, cast=float, minimum=10.0, maximum=60.0)
# A selfie (or liveness frame) is the same picture as an earlier selfie, an enrolment photo or a classroom
# face crop when both its 256-bit perceptual hashes differ by at most this many bits (measured: copies up to
# 64, different pictures 80 or more; recognition/picture_hash.py).
PICTURE_HASH_MAX_DISTANCE = env_number("PICTURE_HASH_MAX_DISTANCE", 68, minimum=0, maximum=128)
# Outgoing e-mail (the outbox): attempts before a message is left as failed for a person to look at.
OUTBOX_MAX_ATTEMPTS: int = env_number("OUTBOX_MAX_ATTEMPTS", 8, minimum=1, maximum=50)
# A message claimed by a sender that died is offered again after this many seconds.
OUTBOX_CLAIM_TIMEOUT: int = env_number("OUTBOX_CLAIM_TIMEOUT", 900, minimum=60)

# --- Cache, queue and operations (SPEC §7) ---------------------------------------------------

# The cache above (CACHE_URL or REDIS_URL) also holds the remote backend's circuit breaker: shared,
# every gunicorn and Celery process sees one breaker.

# Photo processing on Celery workers when a broker is configured; without one everything runs in the
# request (the embedded default needs no Redis). PHOTO_PROCESSING=inline forces the request path.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
PHOTO_PROCESSING = env_choice("PHOTO_PROCESSING", "queue" if CELERY_BROKER_URL else "inline", ("inline", "queue"))
if PHOTO_PROCESSING == "queue" and not CELERY_BROKER_URL:
    raise ImproperlyConfigured("PHOTO_PROCESSING=queue needs CELERY_BROKER_URL")
CELERY_TASK_IGNORE_RESULT = True  # results live in the database (the photo's state), not in the broker
# A task is acknowledged after it ran, and given back when its worker dies: a photo is never dropped.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # long tasks: a worker takes one at a time
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # workers log through LOGGING below (JSON included)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing from a request gives up quickly when Redis is down: the stored photo waits for the sweep.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# A photo waiting for recognition is retried with exponential backoff (base, cap, in seconds) until
# PHOTO_RECOGNITION_DEADLINE seconds after its upload; then it is marked failed (its upload is kept).
PHOTO_RETRY_BASE_SECONDS = env_number("PHOTO_RETRY_BASE_SECONDS", 5, cast=float, minimum=0.1)
PHOTO_RETRY_MAX_SECONDS = env_number("PHOTO_RETRY_MAX_SECONDS", 300, cast=float, minimum=0.1)
PHOTO_RECOGNITION_DEADLINE = env_number("PHOTO_RECOGNITION_DEADLINE", 6 * 3600, cast=float, minimum=1)

# /metrics: with METRICS_TOKEN set, callers send "Authorization: Bearer <token>"; without it only
# loopback callers (a Prometheus on the same host) are answered.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
LOG_FORMAT = env_choice("LOG_FORMAT", "plain", ("plain", "json"))

# --- Logging --------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "school.middleware.RequestIDLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        # One JSON object per line for log shippers: time, level, logger, request id, message.
        "json": {"()": "pythonjsonlogger.json.JsonFormatter",
                 "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
                 "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"}},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
