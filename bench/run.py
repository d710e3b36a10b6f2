"""Run every bench/bench_*.py: `make bench` (or `.venv/bin/python bench/run.py`)."""

import importlib
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tmcs.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = []  # measure the code, not the throttle


def main():
    from django.core.management import call_command

    call_command("load_demo_region", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    selected = [n for n in names if not sys.argv[1:] or any(arg in n for arg in sys.argv[1:])]
    for name in selected:
        importlib.import_module(name).run()


if __name__ == "__main__":
    main()
