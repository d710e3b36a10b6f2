from django.core.management.base import BaseCommand

from greenfinance.demo import load_demo_greenfinance


class Command(BaseCommand):
    help = "加载演示绿色金融数据（农房储蓄单与储蓄贷、民宿与森林保险及理赔、生态产业基金与绿色债券；可重复执行）。"

    def handle(self, *args, **options):
        slip = load_demo_greenfinance()
        if slip is None:
            self.stdout.write("演示绿色金融数据已存在或上游演示数据不可用，未做更改。")
        else:
            self.stdout.write(self.style.SUCCESS(f"演示绿色金融数据已就绪：生态资源储蓄单 {slip.number}。"))
