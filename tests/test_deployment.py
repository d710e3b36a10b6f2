"""Production configuration: docker-compose.yml and `check --deploy` with its settings."""

import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from .compose import MissingVariable, interpolate, load_compose, service_environment

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_VARIABLES = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "tmcs.example.gov.cn",
    "POSTGRES_PASSWORD": "not-used-by-check",
    "TMCS_FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "TMCS_LOOKUP_HASH_KEY": secrets.token_urlsafe(32),
    "TMCS_PUBLIC_BASE_URL": "https://tmcs.example.gov.cn",
}


def test_compose_names_every_service_and_their_commands():
    compose = load_compose()
    services = compose["services"]
    assert {"db", "redis", "web", "worker", "beat"} <= set(services)
    assert services["db"]["image"].startswith("postgis/postgis:15-3")
    assert services["redis"]["image"].startswith("redis:7")
    assert services["worker"]["command"][:4] == ["celery", "-A", "tmcs", "worker"]
    assert "django_celery_beat.schedulers:DatabaseScheduler" in services["beat"]["command"]
    # web, worker and beat run the same image with the same environment
    assert services["web"]["image"] == services["worker"]["image"] == services["beat"]["image"]
    assert (
        services["web"]["environment"] == services["worker"]["environment"] == services["beat"]["environment"]
    )
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])


def test_compose_refuses_to_start_without_secrets():
    with pytest.raises(MissingVariable, match="DJANGO_SECRET_KEY"):
        service_environment("web", {})
    assert interpolate("${X:-fallback}", {}) == "fallback"


def test_every_compose_variable_is_documented_in_env_example():
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), flags=re.M))
    used = set(re.findall(r"\$\{(\w+)", (ROOT / "docker-compose.yml").read_text()))
    environment = set(load_compose()["services"]["web"]["environment"])
    assert used - documented == set()
    assert environment - documented == set()


@pytest.mark.skipif(
    shutil.which("docker") is None
    or subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0,
    reason="Docker Compose is not installed on this machine; the structure is checked by the tests above",
)
def test_docker_compose_config_passes():
    result = subprocess.run(
        ["docker", "compose", "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
        env={**os.environ, **PRODUCTION_VARIABLES},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def _check_deploy(extra_env):
    db = connection.settings_dict
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        **extra_env,
        "DATABASE_URL": f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def test_check_deploy_is_clean_with_production_settings(db):
    env = service_environment("web", PRODUCTION_VARIABLES)
    result = _check_deploy({k: v for k, v in env.items() if k != "DATABASE_URL"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_rejects_local_defaults(db):
    result = _check_deploy({})
    assert result.returncode != 0
    assert "security.W009" in result.stderr  # the insecure local SECRET_KEY
    assert "security.W008" in result.stderr  # no SSL redirect
    assert "tmcs.W001" in result.stderr and "tmcs.W002" in result.stderr  # personal-data keys derived


def test_debug_is_off_unless_asked(settings):
    assert settings.DEBUG is False
