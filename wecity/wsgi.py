import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wecity.settings")
django_application = get_wsgi_application()

from wecity.pagecache import CachedPagesApp  # noqa: E402  (needs the settings set up)

# Public pages stored in the page cache are answered before Django runs (wecity/pagecache.py).
application = CachedPagesApp(django_application)
