import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wecity.settings")

app = Celery("wecity")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def make_filesystem_broker_folders(sender, **kwargs):
    # kombu's filesystem transport (the embedded default) needs its folders to exist.
    options = sender.conf.broker_transport_options or {}
    if str(sender.conf.broker_url).startswith("filesystem://"):
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            if options.get(key):
                os.makedirs(options[key], exist_ok=True)
