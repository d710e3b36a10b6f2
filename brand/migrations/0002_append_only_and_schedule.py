"""What the ORM cannot declare: licence actions, inspections, batch tests and sales are never
updated or deleted, and the daily task that expires licences past their term."""

import json

from django.db import migrations

TABLES = ["brand_licenceaction", "brand_inspection", "brand_batchtest", "brand_sale"]

FORWARD = "\n".join(
    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION tmcs_refuse_change();"
    for table in TABLES
)
REVERSE = "\n".join(f"DROP TRIGGER {table}_append_only ON {table};" for table in TABLES)

SCHEDULE_NAME = "品牌：到期授权自动失效"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _created = CrontabSchedule.objects.get_or_create(
        minute="20", hour="0", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Shanghai"
    )
    PeriodicTask.objects.get_or_create(
        name=SCHEDULE_NAME,
        defaults={"task": "brand.tasks.expire_licences", "crontab": crontab, "kwargs": json.dumps({})},
    )


def drop_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("brand", "0001_initial"),
        ("transactions", "0002_ledger_integrity"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunSQL(FORWARD, REVERSE), migrations.RunPython(create_schedule, drop_schedule)]
