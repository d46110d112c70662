-- Up Migration
-- Living beside the bot's own programs (docs/design.md §3.1): they keep writing
-- fifo_computation_log, fifo_allocations version 2 and trade_records.remaining_size after
-- fifo-ledger is installed.

-- 1. Whose log row is it. The bot's FIFO script logs its runs in the same table; health, the
-- report and the abandoned-run sweep must see only fifo-ledger's. A writer that does not know
-- the column (the bot's) gets false. Rows from before this migration are fifo-ledger's when
-- they carry what only fifo-ledger writes: its triggered_by values (shared/jobs/context.ts,
-- functions/commons/handler.ts) on a version it registered.
ALTER TABLE fifo_computation_log ADD COLUMN IF NOT EXISTS fifo_ledger_run boolean NOT NULL DEFAULT false;
UPDATE fifo_computation_log l SET fifo_ledger_run = true
WHERE NOT l.fifo_ledger_run
  AND (l.triggered_by IN ('cli', 'demo') OR l.triggered_by LIKE 'schedule %' OR l.triggered_by LIKE 'lambda %')
  AND EXISTS (SELECT 1 FROM fifo_versions v WHERE v.allocation_version = l.allocation_version);
CREATE INDEX IF NOT EXISTS fifo_computation_log_ledger_runs_idx
  ON fifo_computation_log (allocation_version, computation_mode, computation_start DESC)
  WHERE fifo_ledger_run;

-- 2. A sell whose fee exceeds its gross proceeds has negative net proceeds (FIFO rule 3); the
-- bot's table refuses them with CHECK (net_proceeds_usd >= 0), which would stop every run at
-- the first such sell. Relaxing a check never breaks a writer.
DO $$
DECLARE
  ck record;
BEGIN
  FOR ck IN
    SELECT conname FROM pg_constraint
    WHERE conrelid = 'fifo_allocations'::regclass AND contype = 'c'
      AND pg_get_constraintdef(oid) ~* '^CHECK \(\(net_proceeds_usd >= \(?0\)?(::numeric)?\)\)$'
  LOOP
    EXECUTE format('ALTER TABLE fifo_allocations DROP CONSTRAINT %I', ck.conname);
  END LOOP;
END
$$;

-- 3. The remaining_size mirror. The bot's startup maintenance sets buys' remaining_size = size
-- where it is NULL or 0, re-inflating consumed lots. The engine never reads the mirror, but
-- the operator and the bot's own tools do: every write to it that is not fifo-ledger's is
-- noted here, so the next run puts exactly those rows back, at a cost that follows the writes.
-- fifo-ledger's own writes set fifo.writing_mirror for their transaction.
CREATE TABLE IF NOT EXISTS fifo_mirror_writes (
  order_id varchar PRIMARY KEY,
  recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE OR REPLACE FUNCTION fifo_note_mirror_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO public.fifo_mirror_writes (order_id) VALUES (NEW.order_id) ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION fifo_note_mirror_write() FROM PUBLIC;

DROP TRIGGER IF EXISTS fifo_note_mirror_write ON trade_records;
CREATE TRIGGER fifo_note_mirror_write AFTER UPDATE OF remaining_size ON trade_records
  FOR EACH ROW
  WHEN (OLD.remaining_size IS DISTINCT FROM NEW.remaining_size
        AND current_setting('fifo.writing_mirror', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION fifo_note_mirror_write();

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fifo_ledger_writer') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON fifo_mirror_writes TO fifo_ledger_writer;
  END IF;
END
$$;

-- Down Migration
DROP TRIGGER IF EXISTS fifo_note_mirror_write ON trade_records;
DROP FUNCTION IF EXISTS fifo_note_mirror_write();
DROP TABLE IF EXISTS fifo_mirror_writes;
DROP INDEX IF EXISTS fifo_computation_log_ledger_runs_idx;
ALTER TABLE fifo_computation_log DROP COLUMN IF EXISTS fifo_ledger_run;
