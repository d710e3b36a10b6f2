from django.core.management.base import BaseCommand

from exchange.demo import load_demo_exchange


class Command(BaseCommand):
    help = "加载演示数据交换（林业部门导入采伐许可证、导出资源地块、信用信息授权与信用报送；可重复执行）。"

    def handle(self, *args, **options):
        consent = load_demo_exchange()
        if consent is None:
            self.stdout.write("演示数据交换已存在或上游演示数据不可用，未做更改。")
        else:
            self.stdout.write(self.style.SUCCESS(f"演示数据交换已就绪：信用信息授权 {consent.number}。"))
