-- Up Migration
-- Least privilege. The jobs run as a member of fifo_ledger_writer, a role without login:
-- it reads trade_records and the trade source, updates only trade_records.remaining_size,
-- and reads and writes fifo-ledger's own tables. Grant it to the login role the functions
-- use: GRANT fifo_ledger_writer TO my_lambda_user;
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fifo_ledger_writer') THEN
    CREATE ROLE fifo_ledger_writer NOLOGIN;
  END IF;
END
$$;

GRANT SELECT ON trade_records TO fifo_ledger_writer;
GRANT UPDATE (remaining_size) ON trade_records TO fifo_ledger_writer;
GRANT SELECT ON fifo_trade_source TO fifo_ledger_writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON
  fifo_allocations, fifo_lots, fifo_symbol_progress, fifo_versions, fifo_computation_log,
  fifo_rejected_trades, fifo_trade_changes
  TO fifo_ledger_writer;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO fifo_ledger_writer;

-- Change capture runs in the bot's sessions, as the bot's user. As a security definer
-- (owned by whoever ran the migrations) it needs no grant to the bot on fifo-ledger's tables,
-- and a fixed search_path keeps a caller's path from redirecting it.
ALTER FUNCTION fifo_capture_trade_changes() SECURITY DEFINER;
ALTER FUNCTION fifo_capture_trade_changes() SET search_path = public, pg_temp;

-- Down Migration
ALTER FUNCTION fifo_capture_trade_changes() SECURITY INVOKER;
ALTER FUNCTION fifo_capture_trade_changes() RESET search_path;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM fifo_ledger_writer;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM fifo_ledger_writer;
