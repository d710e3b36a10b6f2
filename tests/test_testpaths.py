"""`make test` runs pytest's testpaths: every project app must be listed there, or its tests are
silently skipped (found when brand and journal were added)."""

import tomllib
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_project_app_is_in_testpaths():
    testpaths = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["testpaths"]
    )
    apps = {name for name in settings.INSTALLED_APPS if "." not in name and (ROOT / name / "tests").is_dir()}
    assert apps and apps <= testpaths, sorted(apps - testpaths)
