"""Redis down, in-process: the cache answers from memory, and queuing a task after a
commit logs the lost message instead of failing the page (tests/security/test_faults.py
does the same end to end, under gunicorn)."""

import logging

import pytest
from django.db import transaction
from kombu.exceptions import OperationalError

from scripts.stack import free_port
from wecity.caches import RedisCacheWithFallback
from wecity.celery import queue_after_commit


class Task:
    """A task whose broker cannot be reached (or, with `error`, that is called wrongly)."""

    name = "topics.send_receipt"

    def __init__(self, error):
        self.error, self.calls = error, []

    def apply_async(self, *, kwargs):
        self.calls.append(kwargs)
        raise self.error


@pytest.mark.django_db
def test_queue_after_commit_logs_a_message_the_broker_could_not_take(
    django_capture_on_commit_callbacks, caplog
):
    task = Task(OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused."))

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        queue_after_commit(task, submission_id=7)

    assert task.calls == [{"submission_id": 7}]
    assert [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "wecity.celery"] == [
        (
            logging.ERROR,
            "Broker unreachable: topics.send_receipt({'submission_id': 7}) was not queued",
        )
    ]


@pytest.mark.django_db
def test_queue_after_commit_lets_other_errors_through(django_capture_on_commit_callbacks):
    task = Task(TypeError("send_receipt() got an unexpected keyword argument"))

    with pytest.raises(TypeError), django_capture_on_commit_callbacks(execute=True):
        queue_after_commit(task, submission=7)


@pytest.mark.django_db
def test_queue_after_commit_queues_nothing_when_the_transaction_rolls_back(
    django_capture_on_commit_callbacks,
):
    task = Task(OperationalError("unused"))

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        queue_after_commit(task, submission_id=7)
        transaction.set_rollback(True)

    assert task.calls == []


def test_cache_keeps_working_from_memory_while_redis_is_down(caplog):
    cache = RedisCacheWithFallback(
        f"redis://127.0.0.1:{free_port()}/1",
        {"OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}, "KEY_PREFIX": "t"},
    )

    cache.set("attempts", 1, 60)
    added = cache.add("lock", True, 5)
    cache.incr("attempts")
    values = (cache.get("attempts"), cache.get("missing", "default"), added, cache.add("lock", 1))

    assert values == (2, "default", True, False)
    warnings = [r for r in caplog.records if r.name == "wecity.caches"]
    assert len(warnings) == 1
    assert warnings[0].getMessage().startswith("Redis cache unreachable, using this process's")
