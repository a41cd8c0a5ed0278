"""Settings of the WeCity Accelerator Portal.

Every value comes from the environment (see `.env.example`). The defaults are for a
developer's machine: SQLite, an embedded Celery broker, mail on the console. Production
sets DEBUG=0 and the variables marked "production" in `.env.example`; a missing secret
there is a loud failure, never a silent default.
"""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core ---------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=True)
if DEBUG:
    SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
else:
    SECRET_KEY = env("SECRET_KEY")  # production: required, fails loudly when missing
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_ID = 1
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sites",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "rest_framework",
    "drf_spectacular",
    "django_filters",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "axes",
    "csp",
    "accounts",
    "forums",
    "topics",
    "cohorts",
    "wecity.apps.WecityConfig",  # connects the page cache's receivers
]

MIDDLEWARE = [
    # First, so that it stores a page with every header the others add; it serves and
    # stores in process_view, once all of them have read the request (language, session,
    # user, messages). wecity/pagecache.py; CachedPagesApp serves pages before Django.
    "wecity.pagecache.PageCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "wecity.security.RejectNullCharacterMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

ROOT_URLCONF = "wecity.urls"
WSGI_APPLICATION = "wecity.wsgi.application"
ASGI_APPLICATION = "wecity.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            # {% url %} reversed once per URL, not at every render (wecity/template_urls.py).
            "builtins": ["wecity.template_urls"],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
# SQLite is the embedded default; production and CI set DATABASE_URL=postgres://…
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache --------------------------------------------------------------------------------
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://wecity")}
# Public pages and API reads for anonymous visitors are kept this many seconds (0: never),
# invalidated by every write (wecity/pagecache.py). Off by default with the in-process
# cache: another process (a second web worker, the Celery worker publishing a scheduled
# recap) could not invalidate this one's pages.
_shared_cache = any(
    name in CACHES["default"]["BACKEND"] for name in ("redis", "memcached", "filebased", ".db.")
)
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=300 if _shared_cache else 0)

# --- Accounts -----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "wecity.security.AdminLockoutBackend",  # first: refuses locked-out addresses (see Security)
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
# Members join by invitation; open sign-up stays off unless a deployment turns it on.
ACCOUNT_ALLOW_SIGNUPS = env.bool("ACCOUNT_ALLOW_SIGNUPS", default=False)
# ACCOUNT_EMAIL_VERIFICATION: set with the security settings below (mandatory in production).
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = None

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The header's language links set it (wecity.views.switch_language); not from other sites.
LANGUAGE_COOKIE_SAMESITE = "Lax"
USE_I18N = True
USE_TZ = True  # stored in UTC
TIME_ZONE = env("TIME_ZONE", default="Asia/Shanghai")  # shown in the programme's zone

# --- Static and uploaded files ------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = env("MEDIA_URL", default="/media/")
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    # Django's FileSystemStorage, but a write that fails half way leaves no file behind.
    "default": {"BACKEND": "cohorts.storage.PublicFileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)

# --- Email --------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="WeCity Accelerator <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery -------------------------------------------------------------------------------
# Without CELERY_BROKER_URL the broker is kombu's filesystem transport: no server needed.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_DATA_DIR = Path(env("CELERY_BROKER_DATA_DIR", default=str(BASE_DIR / ".broker")))
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DATA_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DATA_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DATA_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DATA_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 90
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The programme's periodic jobs (beat reads them at start).
CELERY_BEAT_SCHEDULE = {
    "publish-due-recaps": {
        "task": "forums.publish_due_recaps",
        "schedule": env.int("RECAP_PUBLISH_SWEEP_SECONDS", default=60),
    },
    # Creates the reminders that are due, re-queues those a dead worker left, fans out sending.
    "sweep-reminders": {
        "task": "cohorts.sweep_reminders",
        "schedule": env.int("REMINDER_SWEEP_SECONDS", default=300),
    },
}
# The queue tasks go to and workers read (one name per deployment sharing a broker).
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")

# --- Security -----------------------------------------------------------------------------
# Production (DEBUG=0) is behind TLS; each value can still be turned off for a test host.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# --- Logging ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# --- Programme ----------------------------------------------------------------------------
WECITY_COHORT_CAPACITY = env.int("WECITY_COHORT_CAPACITY", default=35)
WECITY_COHORT_MONTHS = env.int("WECITY_COHORT_MONTHS", default=8)

# --- Cohorts and deliverables -------------------------------------------------------------
# Members' files (submissions, profile photos) are kept in the "private" storage: outside
# STATIC_URL and MEDIA_URL, read only through views that check who asks.
PRIVATE_MEDIA_ROOT = Path(env("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "private")))
# When set (e.g. /protected/), file views answer with X-Accel-Redirect to this prefix and
# the proxy (nginx `internal` location aliased to PRIVATE_MEDIA_ROOT) sends the bytes.
PRIVATE_FILES_ACCEL_PREFIX = env("PRIVATE_FILES_ACCEL_PREFIX", default="")
# With a bucket, file views redirect to a signed URL valid for a minute; 1 makes Django
# fetch the object and stream it itself (when browsers cannot reach the bucket).
PRIVATE_STORAGE_S3_PROXY = env.bool("PRIVATE_STORAGE_S3_PROXY", default=False)
if env("PRIVATE_STORAGE_S3_BUCKET", default=""):
    # Several web machines share files through an S3-compatible bucket. Empty keys leave
    # the credentials to boto3's own chain (AWS_* variables, an instance or pod role).
    from django.core.exceptions import ImproperlyConfigured

    _s3_endpoint = env("PRIVATE_STORAGE_S3_ENDPOINT_URL", default="") or None
    _s3_access_key = env("PRIVATE_STORAGE_S3_ACCESS_KEY_ID", default="") or None
    _s3_secret_key = env("PRIVATE_STORAGE_S3_SECRET_ACCESS_KEY", default="") or None
    if (_s3_access_key is None) != (_s3_secret_key is None):
        raise ImproperlyConfigured(
            "Set both PRIVATE_STORAGE_S3_ACCESS_KEY_ID and PRIVATE_STORAGE_S3_SECRET_ACCESS_KEY, "
            "or neither."
        )
    if PRIVATE_FILES_ACCEL_PREFIX:
        raise ImproperlyConfigured(
            "PRIVATE_FILES_ACCEL_PREFIX serves files from PRIVATE_MEDIA_ROOT, which a bucket "
            "replaces: leave it empty with PRIVATE_STORAGE_S3_BUCKET."
        )
    STORAGES["private"] = {
        "BACKEND": "cohorts.storage.PrivateS3Storage",
        "OPTIONS": {
            "bucket_name": env("PRIVATE_STORAGE_S3_BUCKET"),
            "endpoint_url": _s3_endpoint,
            "region_name": env("PRIVATE_STORAGE_S3_REGION", default="") or None,
            "access_key": _s3_access_key,
            "secret_key": _s3_secret_key,
            "location": env("PRIVATE_STORAGE_S3_PREFIX", default="").strip("/"),
            # Path-style URLs (endpoint/bucket/key) are the ones every S3-compatible service
            # (MinIO, Ceph, R2 …) answers without DNS set up for each bucket.
            "addressing_style": "path" if _s3_endpoint else None,
        },
    }
else:
    # The backend reads PRIVATE_MEDIA_ROOT itself, so that tests can point it elsewhere.
    STORAGES["private"] = {"BACKEND": "cohorts.storage.PrivateFileSystemStorage"}
# Largest file a member may hand in, in bytes (default 20 MB).
SUBMISSION_MAX_BYTES = env.int("SUBMISSION_MAX_BYTES", default=20 * 1024 * 1024)
# Largest profile photo, in bytes (default 5 MB).
MEMBER_PHOTO_MAX_BYTES = env.int("MEMBER_PHOTO_MAX_BYTES", default=5 * 1024 * 1024)
# Days an invitation link stays valid.
INVITATION_VALID_DAYS = env.int("INVITATION_VALID_DAYS", default=14)
# The header's notification count and the "My programme" link.
TEMPLATES[0]["OPTIONS"]["context_processors"].append("cohorts.context_processors.programme")

# --- Schedule and reminders ---------------------------------------------------------------
# Reminders about milestones go out at this hour (0–23) of the cohort's time zone.
REMINDER_LOCAL_HOUR = env.int("REMINDER_LOCAL_HOUR", default=9)
# Days before a milestone of any kind that members are reminded of it, and days after a
# deliverable deadline that a group which has not handed in is reminded it is overdue.
REMINDER_DAYS_BEFORE = env.list("REMINDER_DAYS_BEFORE", cast=int, default=[7, 1])
REMINDER_DAYS_OVERDUE = env.list("REMINDER_DAYS_OVERDUE", cast=int, default=[1])
# Offsets per milestone kind, in days from the milestone's day (negative: before). A
# `datetime.timedelta` of less than a day is also accepted, counted from the exact time.
REMINDER_OFFSETS = {
    kind: [-days for days in REMINDER_DAYS_BEFORE]
    for kind in ("kick_off", "workshop", "forum", "deadline", "demo_day")
}
REMINDER_OFFSETS["deadline"] += REMINDER_DAYS_OVERDUE
# A reminder whose time passed longer ago than this when the sweep first sees it (beat was
# down, or the milestone was added or moved too late for it) is not sent.
REMINDER_CATCH_UP_HOURS = env.int("REMINDER_CATCH_UP_HOURS", default=12)
# Seconds a claimed reminder may stay unsent before the sweep queues it again (its worker
# died). Must stay well above the send task's time limit (120 s).
REMINDER_LEASE_SECONDS = env.int("REMINDER_LEASE_SECONDS", default=600)
# Sending attempts before a reminder is recorded as failed; the first retry waits
# REMINDER_RETRY_SECONDS, each next one twice as long (at most half the lease).
REMINDER_MAX_ATTEMPTS = env.int("REMINDER_MAX_ATTEMPTS", default=5)
REMINDER_RETRY_SECONDS = env.int("REMINDER_RETRY_SECONDS", default=30)
# Reminders sent by one task, over one mail server connection.
REMINDER_CHUNK_SIZE = env.int("REMINDER_CHUNK_SIZE", default=50)
# Most reminders one sweep claims; the rest wait for the next sweep.
REMINDER_SWEEP_LIMIT = env.int("REMINDER_SWEEP_LIMIT", default=5000)

# --- REST API -----------------------------------------------------------------------------
# /api/v1/ (see wecity/api_urls.py): session auth for the browser, personal API tokens for
# scripts; JSON only. Pagination, ordering and throttling are in wecity/api_policies.py,
# strict input and conditional GET in wecity/api.py, the one error format in api_errors.py.
# Results per page, and the most a client may ask for with ?page_size=.
API_PAGE_SIZE = env.int("API_PAGE_SIZE", default=20)
API_MAX_PAGE_SIZE = env.int("API_MAX_PAGE_SIZE", default=100)
# Requests allowed per client address without credentials, and per signed-in user
# ("number/second|minute|hour|day"); past it the API answers 429 with Retry-After.
API_THROTTLE_ANON_RATE = env("API_THROTTLE_ANON_RATE", default="60/minute")
API_THROTTLE_USER_RATE = env("API_THROTTLE_USER_RATE", default="600/minute")
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so that a request without credentials gets 401 and WWW-Authenticate.
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies; the one upload (handing in a file) takes multipart/form-data too.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "wecity.api_policies.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "wecity.api_policies.PageNumberPagination",
    "PAGE_SIZE": API_PAGE_SIZE,
    "DEFAULT_THROTTLE_CLASSES": [
        "wecity.api_policies.AnonRateThrottle",
        "wecity.api_policies.UserRateThrottle",
    ],
    # Client addresses for the anonymous rate: the proxies in front of the portal that add
    # X-Forwarded-For (0: none, REMOTE_ADDR is the client; 1 behind one load balancer).
    "NUM_PROXIES": env.int("API_NUM_PROXIES", default=0),
    "EXCEPTION_HANDLER": "wecity.api_errors.exception_handler",
    # JSON only: `?format=` is free for filters (a forum's format) instead of choosing one.
    "URL_FORMAT_OVERRIDE": None,
}
# The API's documentation pages load Swagger UI and Redoc from the portal's own static files.
INSTALLED_APPS += ["drf_spectacular_sidecar"]
SPECTACULAR_SETTINGS = {
    "TITLE": "WeCity Accelerator Portal API",
    "DESCRIPTION": (
        "The portal's data for partners, dashboards and scripts: forums and their recaps, "
        "speakers, quotes, the six topics, cohorts, members, the schedule, deliverables and "
        "their versions. Each object is shown to whoever its page is shown to; anything "
        "else answers 404. Sign in (session) or send a personal API token, created on the "
        "API tokens page of your account: `Authorization: Bearer <token>`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choices that share a field name get names of their own in the schema.
    "ENUM_NAME_OVERRIDES": {
        "MilestoneKindEnum": "cohorts.models.Milestone.Kind",
        "SubmissionKindEnum": "topics.models.Submission.Kind",
        "SearchKindEnum": "forums.models.SearchEntry.Kind",
        "RecapStatusEnum": "forums.models.Recap.Status",
        "ReviewStatusEnum": "topics.models.Review.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "wecity.api_errors.add_error_responses",
    ],
}

# --- Security: hardened defaults ----------------------------------------------------------
# What the portal promises is in SECURITY.md. With DEBUG=0 and the values of .env.example,
# `manage.py check --deploy --fail-level WARNING` passes (tests/test_project.py); HSTS,
# secure cookies, nosniff, Referrer-Policy and frame denial are in "Security" above.
import datetime  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

from csp.constants import NONE, SELF  # noqa: E402

# Content-Security-Policy (django-csp). The templates hold no inline script or style, so
# neither is allowed; no site may frame the portal. CSP_REPORT_ONLY=1 sends the policy as
# Content-Security-Policy-Report-Only instead (to try a change on a live site first), and
# browsers post what it would have blocked to CSP_REPORT_URI when that is set.
_csp_images = [SELF]
if env("PRIVATE_STORAGE_S3_BUCKET", default=""):
    # A member's photo is an <img> whose view redirects to a signed URL of the bucket.
    if _s3_endpoint:
        _csp_images.append("{0.scheme}://{0.netloc}".format(urlsplit(_s3_endpoint)))
    else:
        _bucket = env("PRIVATE_STORAGE_S3_BUCKET")
        _csp_images.append(f"https://{_bucket}.s3.amazonaws.com")
        if env("PRIVATE_STORAGE_S3_REGION", default=""):
            _csp_images.append(
                f"https://{_bucket}.s3.{env('PRIVATE_STORAGE_S3_REGION')}.amazonaws.com"
            )
_csp_policy = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": _csp_images,
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "report-uri": env("CSP_REPORT_URI", default="") or None,
    },
}
_csp_report_only = env.bool("CSP_REPORT_ONLY", default=False)
CONTENT_SECURITY_POLICY = None if _csp_report_only else _csp_policy
CONTENT_SECURITY_POLICY_REPORT_ONLY = _csp_policy if _csp_report_only else None
# No page script reads the CSRF cookie (forms carry the token), so scripts may not either.
CSRF_COOKIE_HTTPONLY = True

# Members must confirm their address before they sign in: the production default
# (development keeps "optional"). Accepting an
# invitation confirms the address: the invitation was sent to it.
ACCOUNT_EMAIL_VERIFICATION = env(
    "ACCOUNT_EMAIL_VERIFICATION", default="optional" if DEBUG else "mandatory"
)
# allauth's rate limits on the portal's sign-in, sign-up and password reset, as allauth
# writes them: "count/period/key", periods in s, m, h or d, keys ip, key (the address
# typed) or user; a comma joins several. Past a limit allauth answers 429 (templates/429.html)
# or, for failed sign-ins, refuses with a message on the form. Kept in the cache (CACHE_URL).
ACCOUNT_RATE_LIMITS = {
    "login": env("RATE_LIMIT_LOGIN", default="30/m/ip"),
    "login_failed": env("RATE_LIMIT_LOGIN_FAILED", default="10/m/ip,5/5m/key"),
    "signup": env("RATE_LIMIT_SIGNUP", default="20/m/ip"),
    "reset_password": env("RATE_LIMIT_RESET_PASSWORD", default="20/m/ip,5/m/key"),
}
# The proxies in front of the portal that add X-Forwarded-For: the same count as the API's
# throttles (0: REMOTE_ADDR is the client). Rate limits and lock-outs count by that address.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("API_NUM_PROXIES", default=0)

# django-axes locks the Django admin's sign-in (/admin/) for an address after
# AXES_FAILURE_LIMIT failed attempts, for AXES_COOLOFF_MINUTES; an admin can lift a lock-out
# sooner by deleting its access attempts in the admin. Only the admin: allauth's limits above
# cover the portal's own sign-in (wecity/security.py).
AXES_ONLY_ADMIN_SITE = True
AXES_HANDLER = "wecity.security.AdminOnlyAxesHandler"  # and counts the admin's sign-ins only
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
# By address: a guesser trying many accounts from one address is stopped too, and nobody
# can lock an admin out from elsewhere by typing their email.
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"  # the admin's form names the email field "username"
AXES_CLIENT_IP_CALLABLE = "wecity.security.client_ip"
AXES_LOCKOUT_CALLABLE = "wecity.security.lockout_response"  # templates/admin/lockout.html
AXES_VERBOSE = False  # not axes' banner at every start
# Lock-outs are logged (WARNING); not every sign-in and clean-up axes notes (INFO).
LOGGING.setdefault("loggers", {})["axes"] = {"level": "WARNING"}

# With CACHE_URL=redis://…, Redis when it answers, each process's memory while it does not
# (wecity/caches.py): no page fails because Redis is down.
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "wecity.caches.RedisCacheWithFallback"
    CACHES["default"].setdefault("OPTIONS", {}).update(socket_connect_timeout=1, socket_timeout=1)
# Queuing a task with the broker down gives up after about a second instead of holding the
# page (wecity.celery.queue_after_commit logs the lost message).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
