from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from directory.services import DivisionImportError, import_divisions_csv


class Command(BaseCommand):
    help = "从 CSV（code,name,level,parent_code）导入行政区划；任一行有误则整体不写入。"

    def add_arguments(self, parser):
        parser.add_argument("csv_path")

    def handle(self, *args, **options):
        try:
            result = import_divisions_csv(text=Path(options["csv_path"]).read_text(encoding="utf-8-sig"))
        except DivisionImportError as exc:
            for error in exc.errors:
                self.stderr.write(f"第{error.line}行：{error.message}")
            raise CommandError("导入失败，未写入任何数据。") from exc
        self.stdout.write(
            self.style.SUCCESS(f"新增 {result.created}，更新 {result.updated}，未变 {result.unchanged}。")
        )
