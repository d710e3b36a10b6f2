from django.core.management.base import BaseCommand

from brand.demo import load_demo_brand


class Command(BaseCommand):
    help = "Load the demo brand 丽水山耕: a licensed tea garden, a traced batch with tests and sales"

    def handle(self, *args, **options):
        batch = load_demo_brand()
        if batch is None:
            self.stdout.write("demo brand already loaded (or upstream demo data missing)")
        else:
            self.stdout.write(
                f"demo brand loaded: batch {batch.number}, trace page /trace/{batch.trace_code}/"
            )
