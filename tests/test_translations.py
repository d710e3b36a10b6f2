"""The English catalogue is complete: every Chinese string has a reviewed (non-fuzzy) translation."""

import re
import subprocess

from .project import ROOT, source_files

CATALOGUE = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"


def test_english_catalogue_is_complete_and_valid():
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(CATALOGUE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "translated messages" in result.stderr
    assert "fuzzy" not in result.stderr and "untranslated" not in result.stderr, result.stderr


def test_marked_strings_are_in_the_catalogue():
    """A cheap stand-in for `make makemessages`: every literal marked in templates ({% translate %})
    and Python (_("…"), gettext_lazy("…")) must have an entry."""
    known = set(_msgids(CATALOGUE))
    # Django looks a {% translate %} literal up with "%" doubled (and makemessages writes it so).
    patterns = [
        (re.compile(r'{% translate "([^"]+)"'), lambda m: m.replace("%", "%%")),
        (re.compile(r'\b_\("([^"]+)"\)'), lambda m: m),
        (re.compile(r'gettext_lazy\("([^"]+)"\)'), lambda m: m),
    ]
    missing = set()
    for path in source_files(".py", ".html"):
        text = path.read_text(encoding="utf-8")
        for pattern, msgid in patterns:
            missing |= {
                m for m in pattern.findall(text) if msgid(m) not in known and re.search(r"[\u4e00-\u9fff]", m)
            }
    assert missing == set(), f"run `make makemessages` and translate: {sorted(missing)[:10]}"


def _msgids(path):
    """msgids of a .po file, with wrapped continuation lines joined."""
    ids, current = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("msgid "):
            current = [line[7:-1]]
        elif current is not None and line.startswith('"'):
            current.append(line[1:-1])
        else:
            if current is not None and "".join(current):
                ids.append("".join(current))
            current = None
    return ids
