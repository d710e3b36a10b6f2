"""Default red lines (a cooperative may override each with its own row) and the monitoring jobs
in django-celery-beat. Operators edit the schedules and each job's parameters (the kwargs, e.g.
{"job": "leases_expiring", "days": 60}) in the admin."""

from decimal import Decimal

from django.db import migrations

RED_LINES = [
    # (key, direction, limit, warning, source)
    (
        "debt_ratio",
        "max",
        "0.75",
        "0.65",
        "浙江《关于两山合作社建设运营的指导意见》：适度控制资产负债水平；数值参照国有企业资产负债率"
        "预警线（非工业企业 75%），请按本地国资监管要求核定",
    ),
    (
        "liquidity",
        "min",
        "1.00",
        "1.20",
        "指导意见：适度控制公司流动性；流动比率不低于 1 为通行底线，请按本地要求核定",
    ),
    (
        "borrower_concentration",
        "max",
        "0.10",
        "0.08",
        "参照《融资担保公司监督管理条例》第十五条：对同一被担保人的担保责任余额不超过净资产的 10%",
    ),
    (
        "project_concentration",
        "max",
        "0.15",
        "0.12",
        "参照《融资担保公司监督管理条例》第十五条：对同一被担保人及其关联方不超过净资产的 15%",
    ),
    (
        "investee_lending",
        "max",
        "0",
        "0",
        "指导意见：严格控制为参股企业提供借款，不鼓励单独开展融资担保背书等业务",
    ),
]

SCHEDULES = [
    # (name, job, params, crontab minute, hour)
    ("监测：公示期即将届满", "notice_ending", {"days": 2}, "0", "8"),
    ("监测：租赁/交易合同即将到期", "leases_expiring", {"days": 60}, "5", "8"),
    ("监测：收储合同即将到期", "collections_expiring", {"days": 60}, "10", "8"),
    ("监测：贷款即将到期还款", "installments_due", {"days": 7}, "15", "8"),
    ("监测：贷款逾期", "installments_overdue", {}, "20", "8"),
    ("监测：质押物估值跌破抵质押率", "pledge_value", {}, "25", "8"),
    ("监测：合作社风险红线", "red_lines", {}, "30", "7"),
    ("监测：GEP 占补平衡余额", "gep_balance", {}, "35", "7"),
    ("监测：监测数据过期", "stale_data", {"days": 400}, "40", "7"),
]


def create(apps, schema_editor):
    import json

    RedLine = apps.get_model("projects", "RedLine")
    for key, direction, limit, warning, source in RED_LINES:
        RedLine.objects.get_or_create(
            cooperative=None,
            key=key,
            defaults={"direction": direction, "limit": Decimal(limit), "warning": Decimal(warning), "source": source},
        )
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, job, params, minute, hour in SCHEDULES:
        crontab, _created = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Shanghai"
        )
        PeriodicTask.objects.get_or_create(
            name=name,
            defaults={
                "task": "projects.tasks.run_monitor",
                "crontab": crontab,
                "kwargs": json.dumps({"job": job, **params}),
            },
        )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[name for name, *_rest in SCHEDULES]
    ).delete()
    apps.get_model("projects", "RedLine").objects.filter(cooperative=None).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0002_append_only"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
