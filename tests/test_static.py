"""Static assets: vendored (no CDN) and collectable with the production manifest storage."""

import re

from django.contrib.staticfiles import finders
from django.core.management import call_command

from .project import source_files

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
    offenders = [str(path) for path in source_files(".html") if CDN.search(path.read_text(encoding="utf-8"))]
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
