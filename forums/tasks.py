from celery import shared_task

from forums.services import publish_due_recaps


@shared_task(
    name="forums.publish_due_recaps", ignore_result=True, soft_time_limit=50, time_limit=60
)
def publish_due_recaps_task():
    """Beat's job: scheduled recaps go live at their time (pages already show them then)."""
    return publish_due_recaps()
