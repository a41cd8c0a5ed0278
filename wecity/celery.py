import logging
import os

from celery import Celery
from django.db import transaction
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wecity.settings")

logger = logging.getLogger(__name__)

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


def queue_after_commit(task, **kwargs):
    """Queue `task` with `kwargs` once the current transaction commits.

    Every task the portal's pages queue goes through here. With the broker (Redis) down the
    message is lost, never the page: the change is saved, the failure is logged. Reminders
    are created and sent by beat's sweep (`cohorts.sweep_reminders`), which finds on its next
    run whatever was not sent; a lost one-off email (invitation, receipt, review notice) is
    in the log, and an invitation can be sent again from the cohort's page.
    """

    def send():
        try:
            task.apply_async(kwargs=kwargs)
        except OperationalError:
            logger.exception("Broker unreachable: %s(%s) was not queued", task.name, kwargs)

    transaction.on_commit(send)
