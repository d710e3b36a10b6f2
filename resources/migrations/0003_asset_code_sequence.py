from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("resources", "0002_starting_catalog")]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS resources_asset_code_seq",
            "DROP SEQUENCE IF EXISTS resources_asset_code_seq",
        )
    ]
