from django.core.management.base import BaseCommand

from finance.demo import load_demo_finance


class Command(BaseCommand):
    help = "加载演示生态金融（评分卡、演示银行的贷款产品、风险补偿基金与分担方案、一笔已放款的 GEP 贷；可重复执行）。"

    def handle(self, *args, **options):
        loan = load_demo_finance()
        if loan is None:
            self.stdout.write("演示生态金融已存在或演示林地不可用，未做更改。")
        else:
            self.stdout.write(
                self.style.SUCCESS(f"演示生态金融已就绪：贷款 {loan.number}，本金 {loan.principal} 元。")
            )
