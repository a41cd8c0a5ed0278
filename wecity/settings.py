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
    "accounts",
    "forums",
    "topics",
    "cohorts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
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

# --- Accounts -----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
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
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = None

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
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
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
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
}

# --- REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "WeCity Accelerator Portal API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

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
if env("PRIVATE_STORAGE_S3_BUCKET", default=""):
    # Files must be reachable from every web process; S3-compatible storage is planned,
    # and until it is built a bucket name is refused rather than silently ignored.
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "PRIVATE_STORAGE_S3_BUCKET is not supported yet: leave it empty and put "
        "PRIVATE_MEDIA_ROOT on storage every web process shares."
    )
# The backend reads PRIVATE_MEDIA_ROOT itself, so that tests can point it elsewhere.
STORAGES["private"] = {"BACKEND": "cohorts.storage.PrivateFileSystemStorage"}
# When set (e.g. /protected/), file views answer with X-Accel-Redirect to this prefix and
# the proxy (nginx `internal` location aliased to PRIVATE_MEDIA_ROOT) sends the bytes.
PRIVATE_FILES_ACCEL_PREFIX = env("PRIVATE_FILES_ACCEL_PREFIX", default="")
# Largest file a member may hand in, in bytes (default 20 MB).
SUBMISSION_MAX_BYTES = env.int("SUBMISSION_MAX_BYTES", default=20 * 1024 * 1024)
# Largest profile photo, in bytes (default 5 MB).
MEMBER_PHOTO_MAX_BYTES = env.int("MEMBER_PHOTO_MAX_BYTES", default=5 * 1024 * 1024)
# Days an invitation link stays valid.
INVITATION_VALID_DAYS = env.int("INVITATION_VALID_DAYS", default=14)
# The header's notification count and the "My programme" link.
TEMPLATES[0]["OPTIONS"]["context_processors"].append("cohorts.context_processors.programme")
