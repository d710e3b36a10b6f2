from django.core.management.base import BaseCommand

from projects.demo import load_demo_projects


class Command(BaseCommand):
    help = "加载演示项目管理数据（占补平衡规则与修复补充、准入标准、入库项目与待审项目、合作社账务、风险红线、绩效评价、监测；可重复执行）。"

    def handle(self, *args, **options):
        project = load_demo_projects()
        if project is None:
            self.stdout.write("演示项目管理数据已存在或演示林地不可用，未做更改。")
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"演示项目管理数据已就绪：重点项目 {project.number}（{project.get_status_display()}）。"
                )
            )
