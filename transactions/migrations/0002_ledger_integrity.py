"""What the ORM cannot declare: the ledger is append-only and balanced, bids are append-only,
and live serial blocks of an issuance never share a serial."""

from django.db import migrations

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION tmcs_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'raise_exception';
END $$;
CREATE TRIGGER movement_append_only BEFORE UPDATE OR DELETE ON transactions_movement
    FOR EACH ROW EXECUTE FUNCTION tmcs_refuse_change();
CREATE TRIGGER posting_append_only BEFORE UPDATE OR DELETE ON transactions_posting
    FOR EACH ROW EXECUTE FUNCTION tmcs_refuse_change();
CREATE TRIGGER bid_append_only BEFORE UPDATE OR DELETE ON transactions_bid
    FOR EACH ROW EXECUTE FUNCTION tmcs_refuse_change();

-- Checked at commit, so a movement's postings can be inserted one by one.
CREATE OR REPLACE FUNCTION transactions_check_movement_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE total numeric; lines integer;
BEGIN
    SELECT coalesce(sum(amount), 0), count(*) INTO total, lines
      FROM transactions_posting WHERE movement_id = NEW.movement_id;
    IF total <> 0 OR lines < 2 THEN
        RAISE EXCEPTION 'movement % is unbalanced (sum %, % postings)', NEW.movement_id, total, lines
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER posting_movement_balanced AFTER INSERT ON transactions_posting
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION transactions_check_movement_balanced();

ALTER TABLE transactions_unitblock ADD CONSTRAINT live_unit_blocks_disjoint
    EXCLUDE USING gist (issuance_id WITH =, int8range(first_serial, last_serial, '[]') WITH &&)
    WHERE (status <> 'split');
"""

REVERSE = """
ALTER TABLE transactions_unitblock DROP CONSTRAINT live_unit_blocks_disjoint;
DROP TRIGGER posting_movement_balanced ON transactions_posting;
DROP FUNCTION transactions_check_movement_balanced();
DROP TRIGGER bid_append_only ON transactions_bid;
DROP TRIGGER posting_append_only ON transactions_posting;
DROP TRIGGER movement_append_only ON transactions_movement;
"""


class Migration(migrations.Migration):
    dependencies = [("transactions", "0001_initial")]

    operations = [migrations.RunSQL(APPEND_ONLY, REVERSE)]
