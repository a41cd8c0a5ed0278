"""Print where the portal keeps its data, as shell variables, for backup.sh and restore.sh.

The values are the portal's own settings (the environment, then .env), quoted for `eval`.
"""

import os
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wecity.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402

database = settings.DATABASES["default"]
values = {
    "ENGINE": database["ENGINE"].rsplit(".", 1)[-1],
    "DB_NAME": str(database["NAME"]),
    "DB_HOST": database.get("HOST") or "",
    "DB_PORT": str(database.get("PORT") or ""),
    "DB_USER": database.get("USER") or "",
    "DB_PASSWORD": database.get("PASSWORD") or "",
    "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    "PRIVATE_ROOT": str(settings.PRIVATE_MEDIA_ROOT),
    "PRIVATE_IN_BUCKET": "1" if "S3" in settings.STORAGES["private"]["BACKEND"] else "",
}
for name, value in values.items():
    print(f"{name}={shlex.quote(value)}")
