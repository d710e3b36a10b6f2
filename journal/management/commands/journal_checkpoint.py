import datetime

from django.core.management.base import BaseCommand, CommandError

from journal.services import make_checkpoints


class Command(BaseCommand):
    help = "Verify the journal and write the missing daily checkpoints up to a day (default yesterday)"

    def add_arguments(self, parser):
        parser.add_argument("--until", type=datetime.date.fromisoformat)

    def handle(self, *args, **options):
        result, made = make_checkpoints(options["until"])
        if not result.ok:
            raise CommandError(f"chain broken at #{result.first_bad_seq}: {result.message}")
        self.stdout.write(f"{len(made)} checkpoint(s) made; chain ok up to #{result.head_seq}")
