"""What the ORM cannot declare: exchange logs and credit exports (with their lines) are never
updated or deleted — they are the record of what left or entered the platform."""

from django.db import migrations

TABLES = ["exchange_exchangelog", "exchange_creditexport", "exchange_creditexportline"]

FORWARD = "\n".join(
    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION tmcs_refuse_change();"
    for table in TABLES
)
REVERSE = "\n".join(f"DROP TRIGGER {table}_append_only ON {table};" for table in TABLES)


class Migration(migrations.Migration):
    dependencies = [("exchange", "0001_initial"), ("transactions", "0002_ledger_integrity")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
