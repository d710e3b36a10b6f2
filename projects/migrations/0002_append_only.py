"""What the ORM cannot declare: reviews, evaluations and GEP balance entries are never updated
or deleted (a correction is a new row: another review, evaluation or a reversing entry)."""

from django.db import migrations

TABLES = ["projects_projectreview", "projects_projectevaluation", "projects_gepbalanceentry"]

FORWARD = "\n".join(
    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION tmcs_refuse_change();"
    for table in TABLES
)
REVERSE = "\n".join(f"DROP TRIGGER {table}_append_only ON {table};" for table in TABLES)


class Migration(migrations.Migration):
    dependencies = [("projects", "0001_initial"), ("transactions", "0002_ledger_integrity")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
