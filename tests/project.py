"""Where the project's own source lives, for tests that scan it."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_FOLDERS = (
    "templates",
    "tmcs",
    "directory",
    "resources",
    "valuation",
    "transactions",
    "finance",
    "projects",
)


def source_files(*suffixes):
    for folder in SOURCE_FOLDERS:
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in suffixes and "migrations" not in path.parts and "tests" not in path.parts:
                yield path
