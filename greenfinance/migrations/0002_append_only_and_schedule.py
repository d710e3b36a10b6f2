"""What the ORM cannot declare: fund movements and claim payouts are never updated or deleted (a
correction is a reversal), and the beat schedule of the expiring-policies monitoring job (run by
projects.tasks.run_monitor like the other jobs; kwargs editable in the admin)."""

import json

from django.db import migrations

TABLES = ["greenfinance_fundmovement", "greenfinance_claimpayout"]

FORWARD = "\n".join(
    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION tmcs_refuse_change();"
    for table in TABLES
)
REVERSE = "\n".join(f"DROP TRIGGER {table}_append_only ON {table};" for table in TABLES)

SCHEDULE_NAME = "监测：绿色保险保单即将到期"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _created = CrontabSchedule.objects.get_or_create(
        minute="45", hour="7", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Shanghai"
    )
    PeriodicTask.objects.get_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "task": "projects.tasks.run_monitor",
            "crontab": crontab,
            "kwargs": json.dumps({"job": "policies_expiring", "days": 30}, ensure_ascii=False),
        },
    )


def drop_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("greenfinance", "0001_initial"),
        ("transactions", "0002_ledger_integrity"),
        ("projects", "0006_alter_monitoralert_job_alter_monitorrun_job"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunSQL(FORWARD, REVERSE), migrations.RunPython(create_schedule, drop_schedule)]
