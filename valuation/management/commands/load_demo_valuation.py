from django.core.management.base import BaseCommand

from valuation.demo import load_demo_valuation


class Command(BaseCommand):
    help = (
        "加载演示 GEP 核算（示例参数集、演示林地与乡镇的输入、2024 和 2025 年两次已采纳的核算；可重复执行）。"
    )

    def handle(self, *args, **options):
        runs = load_demo_valuation()
        self.stdout.write(self.style.SUCCESS(f"演示 GEP 核算已就绪（本次新增 {len(runs)} 次核算）。"))
