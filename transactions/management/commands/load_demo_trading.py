from django.core.management.base import BaseCommand

from transactions.demo import load_demo_trading


class Command(BaseCommand):
    help = "加载演示流转交易（演示林地收储、资源包、公示中的拍卖挂牌、投资主体报名与保证金、投资需求；可重复执行）。"

    def handle(self, *args, **options):
        listing = load_demo_trading()
        if listing is None:
            self.stdout.write("演示流转交易已存在或演示林地不可用，未做更改。")
        else:
            self.stdout.write(self.style.SUCCESS(f"演示流转交易已就绪：挂牌 {listing.code}（公示中）。"))
