from django.db import migrations


def seed(apps, schema_editor):
    from resources.catalog import seed_catalog

    seed_catalog(apps.get_model("resources", "ResourceType"))


class Migration(migrations.Migration):
    dependencies = [("resources", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
