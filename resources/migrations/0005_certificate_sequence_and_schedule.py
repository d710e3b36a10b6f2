from django.db import migrations


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=15, period="minutes")
    PeriodicTask.objects.get_or_create(
        name="公示期满自动登记", defaults={"task": "resources.tasks.close_public_notices", "interval": every}
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name="公示期满自动登记").delete()


class Migration(migrations.Migration):
    dependencies = [("resources", "0004_registration"), ("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS resources_certificate_seq",
            "DROP SEQUENCE IF EXISTS resources_certificate_seq",
        ),
        migrations.RunPython(schedule, unschedule),
    ]
