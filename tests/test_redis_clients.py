"""wecity.caches.ReusedRedisCacheClient: one redis.Redis per thread and process, holding its
connection, instead of one per operation."""

import threading

import pytest

from wecity import caches
from wecity.caches import RedisCacheWithFallback

pytestmark = pytest.mark.services


@pytest.fixture
def redis(redis_server):
    return RedisCacheWithFallback(f"redis://127.0.0.1:{redis_server.port}/1", {})


def test_a_thread_reads_and_writes_through_one_client_that_keeps_its_connection(redis):
    redis.set("figure", 1)
    first = redis._cache.get_client()
    redis.get_many(["figure", "other"])
    redis.count_in_window("counter", 60)

    assert redis._cache.get_client(write=True) is first
    assert first.connection is not None  # its own, not taken from the pool each time
    assert (redis.get("figure"), redis.is_falling_back) == (1, False)


def test_each_thread_has_a_client_of_its_own(redis):
    here = redis._cache.get_client()
    there = []
    thread = threading.Thread(target=lambda: there.append(redis._cache.get_client()))
    thread.start()
    thread.join()

    assert there[0] is not here
    assert there[0].connection is not here.connection


def test_after_a_fork_the_process_makes_its_own_client(redis, monkeypatch):
    parent = redis._cache.get_client()
    monkeypatch.setattr(caches.os, "getpid", lambda: -1)

    child = redis._cache.get_client()

    assert child is not parent
    assert redis._cache.get_client() is child


def test_replies_are_parsed_by_hiredis(redis):
    # Parsed in Python, the replies of the page cache's lookup cost about a tenth of a cached
    # API answer (the `hiredis` dependency).
    redis.get_many(["figure"])

    parser = redis._cache.get_client().connection._parser

    assert type(parser).__name__ == "_HiredisParser"
