"""The baseline of `make bench`: the portal's pages saved as files, served by whitenoise.

    BENCH_STATIC_ROOT=/tmp/pages .venv/bin/gunicorn scripts.bench_static:application

Each page the bench measures is saved (as the portal answered it) to `<name>.html`, or
`<name>.json` for an API list, and served from memory by whitenoise under the same gunicorn
with the same workers: what the portal could at best answer on this machine, so that the
portal's figures read as a ratio of it. Anything else answers 404.
"""

import os

from whitenoise import WhiteNoise

MIMETYPES = {".html": "text/html", ".json": "application/json"}  # whitenoise adds the charset


def not_found(environ, start_response):
    start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
    return [b"not found\n"]


def static_site(root):
    """A WSGI app serving the files of `root` at /<file name>."""
    return WhiteNoise(not_found, root=root, autorefresh=False, mimetypes=MIMETYPES)


# Only gunicorn (with BENCH_STATIC_ROOT) loads `application`; the tests call static_site().
application = (
    static_site(os.environ["BENCH_STATIC_ROOT"]) if "BENCH_STATIC_ROOT" in os.environ else None
)
