"""Liveness of what TMCS cannot work without: PostgreSQL (with PostGIS), Redis and a Celery worker.

Each check answers within about a second and never raises: it reports {"ok": bool, ...}.
"""

import time

import redis
from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from tmcs.celery import app as celery_app

TIMEOUT_SECONDS = 1.0


def _timed(check):
    started = time.monotonic()
    try:
        result = check()
        result.setdefault("ok", True)
    except Exception as exc:  # a health check reports failures, it does not raise them
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    result["ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


def check_database():
    def run():
        with connection.cursor() as cursor:
            cursor.execute("SELECT postgis_lib_version()")
            (postgis,) = cursor.fetchone()
        return {"postgis": postgis}

    return _timed(run)


def _ping_redis(url):
    client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS)
    try:
        return bool(client.ping())
    finally:
        client.close()


def check_redis():
    return _timed(lambda: {"ok": _ping_redis(settings.REDIS_URL)})


def check_celery():
    def run():
        # Ask the broker first: with the broker down, a broadcast would wait on reconnects.
        _ping_redis(settings.CELERY_BROKER_URL)
        replies = celery_app.control.inspect(timeout=TIMEOUT_SECONDS).ping() or {}
        workers = sorted(name for name, reply in replies.items() if reply.get("ok") == "pong")
        if not workers:
            return {"ok": False, "error": _("没有 Celery 工作进程应答"), "workers": []}
        return {"workers": workers}

    return _timed(run)


def run_checks():
    checks = {"database": check_database(), "redis": check_redis(), "celery": check_celery()}
    return all(check["ok"] for check in checks.values()), checks
