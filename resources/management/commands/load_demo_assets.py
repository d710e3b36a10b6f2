from django.core.management.base import BaseCommand

from resources.demo import load_demo_assets


class Command(BaseCommand):
    help = "在演示村加载演示资源（林地、耕地、农房；可重复执行）。需先执行 load_demo_region。"

    def handle(self, *args, **options):
        created = load_demo_assets()
        self.stdout.write(self.style.SUCCESS(f"演示资源已就绪（本次新增 {len(created)} 项）。"))
