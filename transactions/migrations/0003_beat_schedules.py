"""The trading desk's schedules in django-celery-beat (editable by operators in the admin)."""

from django.db import migrations

SCHEDULES = [
    # (name, task, crontab minute, hour)
    ("挂牌公示结束与竞价截止", "transactions.tasks.close_due_listings", "*", "*"),
    ("收储与交易合同到期", "transactions.tasks.expire_contracts", "10", "1"),
    ("投资需求匹配", "transactions.tasks.match_open_demands", "23", "*"),
]


def create_schedules(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minute, hour in SCHEDULES:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Shanghai"
        )
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "crontab": crontab})


def remove_schedules(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[name for name, *_ in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("transactions", "0002_ledger_integrity"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
