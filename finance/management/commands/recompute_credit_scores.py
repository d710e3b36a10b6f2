"""Recompute eco-credit scores now (after a new scorecard version, or to refresh the 24-month
windows): every scored party, or the parties named. Unchanged inputs write nothing."""

from django.core.management.base import BaseCommand

from finance.services.scoring import recompute_all_credit_scores


class Command(BaseCommand):
    help = "Recompute eco-credit scores (all scored parties, or --party ID …)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--party", type=int, action="append", dest="parties", help="party id (repeatable)"
        )

    def handle(self, *args, parties=None, **options):
        visited, written = recompute_all_credit_scores(party_ids=parties)
        self.stdout.write(f"parties: {visited}, new scores: {written}")
