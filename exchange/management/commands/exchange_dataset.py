"""Scheduled exchanges between intranets (channel COMMAND), logged like any other:

    manage.py exchange_dataset export parcels --format geojson --division 331102000000 \
        --actor coop_staff --output parcels.geojson
    manage.py exchange_dataset import harvest_permits --file permits.xlsx --division 331102000000 \
        --actor coop_staff [--format xlsx] [--dry-run] [--organization <USCC>]

The actor is a user whose role may exchange data for the division (and, to import, write the
dataset's records). A refused import prints its row errors and exits with status 1.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from directory.models import AdministrativeDivision, Organization, User
from tmcs.errors import DomainError

from ...datasets import DATASETS, formats
from ...models import Channel, ExchangeStatus
from ...services import datasets as services


class Command(BaseCommand):
    help = "导出或导入部门交换数据集（记入数据交换记录，渠道为命令行）。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="direction", required=True)
        for name in ("export", "import"):
            command = sub.add_parser(name)
            command.add_argument("dataset", choices=sorted(DATASETS))
            command.add_argument("--actor", required=True, help="经办人用户名")
            command.add_argument("--division", required=True, help="12 位区划代码")
            command.add_argument("--format", dest="fmt", help="csv、xlsx、geojson 或 json")
            command.add_argument("--organization", help="对方单位的统一社会信用代码")
        export = sub.choices["export"]
        export.add_argument("--output", required=True, help="输出文件路径")
        export.add_argument("--updated-since", help="YYYY-MM-DD")
        export.add_argument("--year", help="年份")
        importing = sub.choices["import"]
        importing.add_argument("--file", required=True, help="要导入的文件")
        importing.add_argument("--dry-run", action="store_true", help="只校验，不写入")

    def handle(self, *args, **options):
        actor = User.objects.filter(username=options["actor"], is_active=True).first()
        if actor is None:
            raise CommandError(f"用户不存在或已停用：{options['actor']}")
        division = AdministrativeDivision.objects.filter(code=options["division"]).first()
        if division is None:
            raise CommandError(f"区划不存在：{options['division']}")
        organization = None
        if options.get("organization"):
            organization = Organization.objects.filter(uscc=options["organization"].upper()).first()
            if organization is None:
                raise CommandError(f"对方单位不存在：{options['organization']}")
        try:
            if options["direction"] == "export":
                return self._export(options, actor, division, organization)
            return self._import(options, actor, division, organization)
        except DomainError as exc:
            raise CommandError(str(exc.detail)) from None

    def _export(self, options, actor, division, organization):
        fmt = options["fmt"] or formats.format_of(options["output"]) or "csv"
        content, _type, _name, log = services.export_dataset(
            actor=actor,
            dataset=options["dataset"],
            fmt=fmt,
            division=division,
            channel=Channel.COMMAND,
            organization=organization,
            filters={"updated_since": options.get("updated_since"), "year": options.get("year")},
        )
        Path(options["output"]).write_bytes(content)
        self.stdout.write(f"{log.number}: {log.rows_total} 行 → {options['output']}")

    def _import(self, options, actor, division, organization):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        fmt = options["fmt"] or formats.format_of(path.name)
        if fmt is None:
            raise CommandError("无法从文件名判断格式，请用 --format 指定。")
        with path.open("rb") as handle:
            content = handle.read(formats.MAX_BYTES + 1)
        log = services.import_dataset(
            actor=actor,
            dataset=options["dataset"],
            fmt=fmt,
            division=division,
            channel=Channel.COMMAND,
            content=content,
            file_name=path.name,
            organization=organization,
            dry_run=options["dry_run"],
        )
        summary = (
            f"{log.number}: {log.get_status_display()} 共 {log.rows_total} 行，新增 {log.rows_created}，"
            f"更新 {log.rows_updated}，未变 {log.rows_unchanged}，错误行 {log.rows_rejected}"
        )
        if log.status != ExchangeStatus.SUCCEEDED:
            for error in log.errors:
                self.stderr.write(f"第 {error['row']} 行 {error['column']}：{error['message']}")
            raise CommandError(summary)
        self.stdout.write(summary)
