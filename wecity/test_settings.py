"""Test settings: only speed and isolation differ from `settings.py`."""

from wecity.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
SECURE_SSL_REDIRECT = False
# Serve static files from the finders: no collectstatic before tests.
WHITENOISE_AUTOREFRESH = True
# Off whatever CACHE_URL says: the tests of the page cache turn it on (tests/test_page_cache.py).
PAGE_CACHE_SECONDS = 0
