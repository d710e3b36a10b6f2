"""What the ORM cannot declare: repayments, their allocation lines, appraisals and loss
allocations are never updated or deleted (a correction is a new row)."""

from django.db import migrations

TABLES = ["finance_repayment", "finance_repaymentline", "finance_collateralappraisal", "finance_lossallocation"]

FORWARD = "\n".join(
    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION tmcs_refuse_change();"
    for table in TABLES
)
REVERSE = "\n".join(f"DROP TRIGGER {table}_append_only ON {table};" for table in TABLES)


class Migration(migrations.Migration):
    dependencies = [("finance", "0001_initial"), ("transactions", "0002_ledger_integrity")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
