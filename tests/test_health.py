import shutil
import socket
import subprocess
import tempfile

import pytest
import redis as redis_client

HEALTH_URL = "/healthz"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def scratch_redis():
    """A second, real Redis server that the test may stop."""
    port = _free_port()
    workdir = tempfile.mkdtemp(prefix="tmcs-redis-")
    process = subprocess.Popen(
        [
            shutil.which("redis-server"),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
    )
    client = redis_client.Redis(host="127.0.0.1", port=port)
    for _ in range(50):
        try:
            client.ping()
            break
        except redis_client.ConnectionError:
            subprocess.run(["sleep", "0.1"], check=True)
    yield port, process
    if process.poll() is None:
        process.terminate()
        process.wait(10)
    shutil.rmtree(workdir, ignore_errors=True)


def test_all_services_up_gives_200(client, celery_worker_process):
    response = client.get(HEALTH_URL)
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert body["checks"]["database"]["postgis"].startswith("3.")
    assert body["checks"]["redis"]["ok"] is True
    assert celery_worker_process in body["checks"]["celery"]["workers"]


def test_stopped_redis_is_reported_down(client, db, settings, scratch_redis):
    port, process = scratch_redis
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    assert client.get(HEALTH_URL).json()["checks"]["redis"]["ok"] is True, client.get(HEALTH_URL).json()

    process.terminate()
    process.wait(10)

    response = client.get(HEALTH_URL)
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "down"
    assert body["checks"]["redis"]["ok"] is False
    assert "Connection" in body["checks"]["redis"]["error"]
    assert body["checks"]["database"]["ok"] is True, body  # one failure does not hide the others


def test_no_worker_is_reported_down(client, db):
    response = client.get(HEALTH_URL)
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["celery"]["ok"] is False
    assert body["checks"]["celery"]["error"] == "没有 Celery 工作进程应答"
    assert body["checks"]["redis"]["ok"] is True


def test_health_needs_no_login_and_is_not_cached(client, db):
    response = client.get(HEALTH_URL)
    assert response.status_code in (200, 503)
    assert "no-cache" in response["Cache-Control"]
    assert client.post(HEALTH_URL).status_code == 405
