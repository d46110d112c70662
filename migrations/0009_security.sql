-- Up Migration
-- Least privilege, for real (docs/reliability.md §10).

-- 1. Change capture that cannot be hijacked. The capture functions run in the bot's sessions
-- as security definers. Before this migration they were owned by the migration owner, PUBLIC
-- could execute them (so attach them to a trigger of its own), their search_path began with
-- public (where a database owner can define an operator `=` that the function would then
-- call with the owner's rights), and a session could switch capture off with
-- `SET fifo.suppress_capture = on`. Now: a NOLOGIN role that may only insert changes and read
-- the versions owns them; the search_path is pg_catalog, pg_temp with every name qualified;
-- PUBLIC may not execute them; the statement-level function keeps only its DELETE branch, with
-- no switch.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fifo_ledger_capture') THEN
    CREATE ROLE fifo_ledger_capture NOLOGIN;
  END IF;
  -- Handing the functions to the role needs membership in it (ALTER ... OWNER TO).
  IF NOT pg_has_role(current_user, 'fifo_ledger_capture', 'MEMBER') THEN
    EXECUTE format('GRANT fifo_ledger_capture TO %I', current_user);
  END IF;
END
$$;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM fifo_ledger_capture;
GRANT USAGE ON SCHEMA public TO fifo_ledger_capture;
GRANT INSERT ON public.fifo_trade_changes, public.fifo_mirror_writes TO fifo_ledger_capture;
GRANT SELECT ON public.fifo_versions TO fifo_ledger_capture;
DO $$
BEGIN
  EXECUTE format('GRANT USAGE ON SEQUENCE %s TO fifo_ledger_capture',
                 pg_get_serial_sequence('public.fifo_trade_changes', 'change_id'));
END
$$;

CREATE OR REPLACE FUNCTION public.fifo_capture_trade_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO public.fifo_trade_changes (allocation_version, symbol, order_time, order_id)
  SELECT v.allocation_version, NEW.symbol, NEW.order_time, NEW.order_id
  FROM public.fifo_versions v
  WHERE v.capture_changes;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION public.fifo_capture_trade_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO public.fifo_trade_changes (allocation_version, symbol, order_time, order_id)
  SELECT v.allocation_version, c.symbol, c.order_time, c.order_id
  FROM (VALUES (OLD.symbol, OLD.order_time, OLD.order_id), (NEW.symbol, NEW.order_time, NEW.order_id))
         AS c(symbol, order_time, order_id)
  CROSS JOIN public.fifo_versions v
  WHERE v.capture_changes;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION public.fifo_capture_trade_delete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO public.fifo_trade_changes (allocation_version, symbol, order_time, order_id)
  SELECT v.allocation_version, o.symbol, o.order_time, o.order_id
  FROM old_rows o CROSS JOIN public.fifo_versions v
  WHERE v.capture_changes;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION public.fifo_note_mirror_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO public.fifo_mirror_writes (order_id) VALUES (NEW.order_id) ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS fifo_capture_delete ON trade_records;
CREATE TRIGGER fifo_capture_delete AFTER DELETE ON trade_records
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION public.fifo_capture_trade_delete();
-- The old statement-level function: its INSERT and UPDATE branches were dead since 0007, and
-- its off-switch let any session hide its writes.
DROP FUNCTION IF EXISTS public.fifo_capture_trade_changes();

ALTER FUNCTION public.fifo_capture_trade_insert() OWNER TO fifo_ledger_capture;
ALTER FUNCTION public.fifo_capture_trade_update() OWNER TO fifo_ledger_capture;
ALTER FUNCTION public.fifo_capture_trade_delete() OWNER TO fifo_ledger_capture;
ALTER FUNCTION public.fifo_note_mirror_write() OWNER TO fifo_ledger_capture;
REVOKE ALL ON FUNCTION public.fifo_capture_trade_insert() FROM PUBLIC;
REVOKE ALL ON FUNCTION public.fifo_capture_trade_update() FROM PUBLIC;
REVOKE ALL ON FUNCTION public.fifo_capture_trade_delete() FROM PUBLIC;
REVOKE ALL ON FUNCTION public.fifo_note_mirror_write() FROM PUBLIC;

-- 2. The jobs' role may use what the jobs use and no more: the sequences of the rows they
-- insert (not every sequence in the schema), and no DELETE of the run log (the record of
-- what they did).
REVOKE USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public FROM fifo_ledger_writer;
REVOKE DELETE ON public.fifo_computation_log FROM fifo_ledger_writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.fifo_mirror_writes TO fifo_ledger_writer;
DO $$
DECLARE
  seq text;
BEGIN
  FOREACH seq IN ARRAY ARRAY[
    pg_get_serial_sequence('public.fifo_allocations', 'id'),
    pg_get_serial_sequence('public.fifo_computation_log', 'id'),
    pg_get_serial_sequence('public.fifo_trade_changes', 'change_id')
  ] LOOP
    IF seq IS NOT NULL THEN
      EXECUTE format('GRANT USAGE ON SEQUENCE %s TO fifo_ledger_writer', seq);
    END IF;
  END LOOP;
END
$$;

-- 3. The report's role: it reads, never writes.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fifo_ledger_reader') THEN
    CREATE ROLE fifo_ledger_reader NOLOGIN;
  END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO fifo_ledger_reader, fifo_ledger_writer;
GRANT SELECT ON public.trade_records, public.fifo_trade_source, public.fifo_allocations, public.fifo_lots,
  public.fifo_symbol_progress, public.fifo_versions, public.fifo_computation_log, public.fifo_rejected_trades,
  public.fifo_trade_changes, public.fifo_mirror_writes, public.fifo_legacy_pnl_archive
  TO fifo_ledger_reader;

-- The bot's deposits and withdrawals, when the table exists: the report's starting equity.
-- A price table the operator configures (REPORT_PRICE_TABLE) needs the same grant, by hand.
DO $$
BEGIN
  IF to_regclass('public.cash_transactions') IS NOT NULL THEN
    GRANT SELECT ON public.cash_transactions TO fifo_ledger_reader;
  END IF;
END
$$;

-- Down Migration
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM fifo_ledger_reader;
