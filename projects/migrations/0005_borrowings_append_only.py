"""Borrowings are never updated or deleted (a repayment is a new row)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("projects", "0004_borrowings")]

    operations = [
        migrations.RunSQL(
            "CREATE TRIGGER projects_borrowing_append_only BEFORE UPDATE OR DELETE ON projects_borrowing "
            "FOR EACH ROW EXECUTE FUNCTION tmcs_refuse_change();",
            "DROP TRIGGER projects_borrowing_append_only ON projects_borrowing;",
        )
    ]
