"""What the ORM cannot declare: the chain itself.

- `journal_sequence_entry` is a deferred constraint trigger: at COMMIT it takes the journal's
  advisory lock, reads the head (the entry with the highest seq, committed by whoever held the
  lock before — READ COMMITTED gives each statement a fresh snapshot) and chains the new entry.
- entries are append-only; the one update allowed is that sequencing (seq and hashes set on a
  still-unsequenced entry, content untouched).
- the daily checkpoint's beat schedule.
"""

import json

from django.db import migrations

LOCK_KEY = 0x4A524E4C  # 'JRNL': the single advisory lock of the chain

FORWARD = f"""
CREATE FUNCTION journal_sequence_entry() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE head_seq bigint; head_hash text; next_seq bigint;
BEGIN
    PERFORM pg_advisory_xact_lock({LOCK_KEY});
    SELECT seq, entry_hash INTO head_seq, head_hash FROM journal_journalentry
     WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1;
    IF head_seq IS NULL THEN
        head_seq := 0;
        head_hash := repeat('0', 64);
    END IF;
    next_seq := head_seq + 1;
    UPDATE journal_journalentry
       SET seq = next_seq,
           prev_hash = head_hash,
           entry_hash = encode(sha256(convert_to(next_seq::text || ':' || head_hash || ':' || NEW.content_hash, 'UTF8')), 'hex'),
           sequenced_at = clock_timestamp()
     WHERE id = NEW.id AND seq IS NULL;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER journal_entry_sequence AFTER INSERT ON journal_journalentry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_sequence_entry();

CREATE FUNCTION journal_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
       AND NEW.id = OLD.id AND NEW.kind = OLD.kind AND NEW.references = OLD.references
       AND NEW.public = OLD.public AND NEW.detail = OLD.detail
       AND NEW.detail_digest = OLD.detail_digest AND NEW.content_hash = OLD.content_hash
       AND NEW.recorded_at = OLD.recorded_at AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'journal_journalentry is append-only: % refused', TG_OP USING ERRCODE = 'raise_exception';
END $$;

CREATE TRIGGER journal_entry_append_only BEFORE UPDATE OR DELETE ON journal_journalentry
    FOR EACH ROW EXECUTE FUNCTION journal_refuse_change();

ALTER TABLE journal_journalentry ADD CONSTRAINT journal_entry_chained_fields
    CHECK ((seq IS NULL) = (entry_hash IS NULL) AND (seq IS NULL) = (prev_hash IS NULL));
CREATE UNIQUE INDEX journal_entry_prev_hash_unique ON journal_journalentry (prev_hash);
"""

REVERSE = """
DROP INDEX journal_entry_prev_hash_unique;
ALTER TABLE journal_journalentry DROP CONSTRAINT journal_entry_chained_fields;
DROP TRIGGER journal_entry_append_only ON journal_journalentry;
DROP FUNCTION journal_refuse_change();
DROP TRIGGER journal_entry_sequence ON journal_journalentry;
DROP FUNCTION journal_sequence_entry();
"""

SCHEDULE_NAME = "公开账本：生成每日检查点"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _created = CrontabSchedule.objects.get_or_create(
        minute="10", hour="0", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Shanghai"
    )
    PeriodicTask.objects.get_or_create(
        name=SCHEDULE_NAME,
        defaults={"task": "journal.tasks.make_checkpoints", "crontab": crontab, "kwargs": json.dumps({})},
    )


def drop_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("journal", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunSQL(FORWARD, REVERSE), migrations.RunPython(create_schedule, drop_schedule)]
