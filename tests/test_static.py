"""Static assets: vendored (no CDN) and collectable with the production manifest storage."""

import re
from pathlib import Path

from django.contrib.staticfiles import finders
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
VENDORED = [
    "vendor/bootstrap/bootstrap.min.css",
    "vendor/bootstrap/bootstrap.bundle.min.js",
    "vendor/bootstrap-icons/bootstrap-icons.min.css",
    "vendor/bootstrap-icons/fonts/bootstrap-icons.woff2",
    "vendor/htmx/htmx.min.js",
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/leaflet.css",
    "vendor/echarts/echarts.min.js",
]
CDN = re.compile(
    r"https?://(cdn\.|unpkg\.com|cdnjs\.|fonts\.googleapis|ajax\.googleapis|code\.jquery|cdn\.jsdelivr)"
)


def test_vendored_assets_are_found():
    for path in VENDORED:
        assert finders.find(path), path


def test_no_template_loads_from_a_cdn():
    offenders = []
    for folder in (
        "templates",
        "tmcs",
        "directory",
        "resources",
        "valuation",
        "transactions",
        "finance",
        "projects",
    ):
        for file in (ROOT / folder).rglob("*.html"):
            if CDN.search(file.read_text(encoding="utf-8")):
                offenders.append(str(file))
    assert offenders == []


def test_collectstatic_with_manifest_storage(tmp_path, settings):
    # The manifest part of production's CompressedManifestStaticFilesStorage: every url() in the
    # vendored CSS must resolve. (Compression only adds .gz/.br copies and takes half a minute.)
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    manifest = (tmp_path / "staticfiles.json").read_text()
    assert "vendor/bootstrap-icons/fonts/bootstrap-icons.woff2" in manifest
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css" in manifest
    assert "vendor/leaflet/images/layers.png" in manifest
