from django.core.management.base import BaseCommand

from directory.demo import LISHUI_CSV, load_demo_region


class Command(BaseCommand):
    help = "加载演示区域：丽水市及所辖九个县（市、区），以及每个角色的演示用户（可重复执行）。"

    def add_arguments(self, parser):
        parser.add_argument("--csv", default=str(LISHUI_CSV), help="区划 CSV（code,name,level,parent_code）")

    def handle(self, *args, csv_path=None, **options):
        accounts = load_demo_region(csv_path=options["csv"])
        self.stdout.write(self.style.SUCCESS("演示区域已就绪：丽水市及所辖九个县（市、区）。"))
        self.stdout.write("演示账号（用户名 / 角色 / 机构 / 密码）：")
        for account in accounts:
            password = account.password or "（已存在，密码未改动）"
            self.stdout.write(
                f"  {account.username:<18} {account.role_label:<12} {account.organization}  {password}"
            )
