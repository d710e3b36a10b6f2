"""Recompute the journal's chain and point at the first entry that does not match.

    manage.py verify_journal                       # the database, with internal detail
    manage.py verify_journal --file chain.json     # a public download, offline (same code)
    manage.py verify_journal --checkpoints cps.json  # also against checkpoints kept elsewhere
Exit status 1 when the chain is broken."""

import json

from django.core.management.base import BaseCommand, CommandError

from journal.verification import verify_chain


def _load(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


class Command(BaseCommand):
    help = "Verify the hash chain of the public journal"

    def add_arguments(self, parser):
        parser.add_argument("--file", help="a public chain download (JSON) to verify instead of the database")
        parser.add_argument("--checkpoints", help="checkpoints (JSON list) kept outside the platform")
        parser.add_argument("--public-key", help="base64 Ed25519 public key the checkpoints must verify with")

    def handle(self, *args, **options):
        entries = checkpoints = None
        if options["file"]:
            data = _load(options["file"])
            entries, checkpoints = data["entries"], data.get("checkpoints", [])
        if options["checkpoints"]:
            checkpoints = _load(options["checkpoints"])
            checkpoints = (
                checkpoints.get("checkpoints", checkpoints) if isinstance(checkpoints, dict) else checkpoints
            )
        result = verify_chain(
            entries=entries,
            checkpoints=checkpoints,
            check_detail=entries is None,
            public_key=options["public_key"],
        )
        if not result.ok:
            raise CommandError(f"broken at entry #{result.first_bad_seq} ({result.reason}): {result.message}")
        self.stdout.write(
            f"ok: {result.checked} entries, head #{result.head_seq} {result.head_hash}, "
            f"{result.checkpoints_checked} checkpoints"
        )
