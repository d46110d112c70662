-- Up Migration
-- fifo-ledger's own tables. Where the bot created one already (fifo_allocations,
-- fifo_computation_log), its rows, column names and the views that read it are kept, and
-- only missing columns and indexes are added.

CREATE TABLE IF NOT EXISTS fifo_allocations (
  id bigserial PRIMARY KEY,
  sell_order_id varchar NOT NULL,
  buy_order_id varchar,
  symbol varchar NOT NULL,
  allocated_size numeric NOT NULL CHECK (allocated_size > 0),
  buy_price numeric,
  sell_price numeric NOT NULL,
  buy_fees_per_unit numeric,
  sell_fees_per_unit numeric NOT NULL,
  cost_basis_usd numeric CHECK (cost_basis_usd IS NULL OR cost_basis_usd >= 0),
  proceeds_usd numeric NOT NULL,
  net_proceeds_usd numeric NOT NULL,
  pnl_usd numeric,
  buy_time timestamptz,
  sell_time timestamptz NOT NULL,
  allocation_time timestamptz NOT NULL DEFAULT now(),
  allocation_version int NOT NULL,
  allocation_batch_id uuid,
  notes text,
  CONSTRAINT fifo_allocations_buy_or_note CHECK (buy_order_id IS NOT NULL OR notes IS NOT NULL),
  CONSTRAINT fifo_allocations_buy_before_sell CHECK (buy_time <= sell_time)
);
ALTER TABLE fifo_allocations ADD COLUMN IF NOT EXISTS buy_fees_per_unit numeric;
ALTER TABLE fifo_allocations ADD COLUMN IF NOT EXISTS sell_fees_per_unit numeric;
ALTER TABLE fifo_allocations ADD COLUMN IF NOT EXISTS net_proceeds_usd numeric;
ALTER TABLE fifo_allocations ADD COLUMN IF NOT EXISTS buy_time timestamptz;
ALTER TABLE fifo_allocations ADD COLUMN IF NOT EXISTS allocation_time timestamptz NOT NULL DEFAULT now();
ALTER TABLE fifo_allocations ADD COLUMN IF NOT EXISTS allocation_batch_id uuid;
ALTER TABLE fifo_allocations ADD COLUMN IF NOT EXISTS notes text;

-- The bot's foreign keys to trade_records cascade on delete: a cancelled trade silently
-- deleted its allocations. Incremental runs must see the deletion as a change and give the
-- slices back to their lots, which needs the rows, so the keys are dropped. Change capture
-- (0003) replaces them.
DO $$
DECLARE
  fk record;
BEGIN
  FOR fk IN
    SELECT conname FROM pg_constraint
    WHERE conrelid = 'fifo_allocations'::regclass AND contype = 'f'
      AND confrelid = 'trade_records'::regclass
  LOOP
    EXECUTE format('ALTER TABLE fifo_allocations DROP CONSTRAINT %I', fk.conname);
  END LOOP;
END
$$;

-- One row per (sell, lot) per version; the unmatched row has buy_order_id NULL. The bot's
-- database has this unique index under its own name: create ours only when it is missing.
DO $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_indexes
    WHERE tablename = 'fifo_allocations'
      AND indexdef ILIKE 'CREATE UNIQUE INDEX%sell_order_id%buy_order_id%allocation_version%'
  ) THEN
    CREATE UNIQUE INDEX fifo_allocations_sell_buy_version_key
      ON fifo_allocations (sell_order_id, COALESCE(buy_order_id, ''), allocation_version);
  END IF;
END
$$;

-- Every job reads and deletes one symbol's allocations from a sell position on, in FIFO
-- order; the report reads a version's allocations by sell_time.
CREATE INDEX IF NOT EXISTS fifo_allocations_version_symbol_sell_idx
  ON fifo_allocations (allocation_version, symbol, sell_time, sell_order_id COLLATE "C");
CREATE INDEX IF NOT EXISTS fifo_allocations_version_sell_time_idx
  ON fifo_allocations (allocation_version, sell_time);

-- The state of every buy's lot per version: an incremental run reads only open lots and
-- never scans history. Closed lots stay (remaining 0) so a replay can give slices back.
CREATE TABLE IF NOT EXISTS fifo_lots (
  allocation_version int NOT NULL,
  buy_order_id varchar NOT NULL,
  symbol varchar NOT NULL,
  buy_time timestamptz NOT NULL,
  buy_price numeric NOT NULL,
  buy_fees_per_unit numeric NOT NULL,
  size numeric NOT NULL,
  remaining_size numeric NOT NULL CHECK (remaining_size >= 0),
  remaining_cost_usd numeric NOT NULL,
  allocation_batch_id uuid,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (allocation_version, buy_order_id)
);
CREATE INDEX IF NOT EXISTS fifo_lots_version_symbol_time_idx
  ON fifo_lots (allocation_version, symbol, buy_time, buy_order_id COLLATE "C");
CREATE INDEX IF NOT EXISTS fifo_lots_open_idx
  ON fifo_lots (allocation_version, symbol, buy_time, buy_order_id COLLATE "C")
  WHERE remaining_size > 0;

-- Per version and symbol, the last trade in FIFO order that the allocations reflect.
CREATE TABLE IF NOT EXISTS fifo_symbol_progress (
  allocation_version int NOT NULL,
  symbol varchar NOT NULL,
  last_order_time timestamptz NOT NULL,
  last_side varchar NOT NULL CHECK (last_side IN ('buy', 'sell')),
  last_order_id varchar NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (allocation_version, symbol)
);

-- The versions that exist. Change capture records changes for each of them, so a version
-- built beside the active one (full --version N) can run incrementally after a switch.
CREATE TABLE IF NOT EXISTS fifo_versions (
  allocation_version int PRIMARY KEY,
  capture_changes boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_full_at timestamptz
);

-- One row per run, as the bot's log has it, plus the drift and rejection counts.
CREATE TABLE IF NOT EXISTS fifo_computation_log (
  id bigserial PRIMARY KEY,
  symbol varchar,
  allocation_version int,
  allocation_batch_id uuid,
  computation_start timestamptz NOT NULL DEFAULT now(),
  computation_end timestamptz,
  computation_duration_ms bigint,
  status varchar NOT NULL,
  buys_processed int DEFAULT 0,
  sells_processed int DEFAULT 0,
  allocations_created int DEFAULT 0,
  error_message text,
  symbols_processed int DEFAULT 0,
  total_pnl_computed numeric,
  computation_mode varchar,
  triggered_by varchar,
  created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE fifo_computation_log ADD COLUMN IF NOT EXISTS allocations_removed int DEFAULT 0;
ALTER TABLE fifo_computation_log ADD COLUMN IF NOT EXISTS drift_rows_added int;
ALTER TABLE fifo_computation_log ADD COLUMN IF NOT EXISTS drift_rows_removed int;
ALTER TABLE fifo_computation_log ADD COLUMN IF NOT EXISTS drift_rows_changed int;
ALTER TABLE fifo_computation_log ADD COLUMN IF NOT EXISTS drift_usd numeric;
ALTER TABLE fifo_computation_log ADD COLUMN IF NOT EXISTS trades_rejected int DEFAULT 0;
ALTER TABLE fifo_computation_log ADD COLUMN IF NOT EXISTS symbols_replayed int DEFAULT 0;
ALTER TABLE fifo_computation_log ADD COLUMN IF NOT EXISTS changes_consumed int DEFAULT 0;
ALTER TABLE fifo_computation_log ADD COLUMN IF NOT EXISTS dry_run boolean NOT NULL DEFAULT false;
ALTER TABLE fifo_computation_log ADD COLUMN IF NOT EXISTS details jsonb;

-- The bot's log allows running|completed|failed|partial; a run that finds another holding
-- the lock logs 'skipped'. Replace any status check with one that includes it.
DO $$
DECLARE
  ck record;
BEGIN
  FOR ck IN
    SELECT conname FROM pg_constraint
    WHERE conrelid = 'fifo_computation_log'::regclass AND contype = 'c'
      AND pg_get_constraintdef(oid) ILIKE '%status%'
  LOOP
    EXECUTE format('ALTER TABLE fifo_computation_log DROP CONSTRAINT %I', ck.conname);
  END LOOP;
END
$$;
ALTER TABLE fifo_computation_log ADD CONSTRAINT fifo_computation_log_status_check
  CHECK (status IN ('running', 'completed', 'failed', 'partial', 'skipped'));
CREATE INDEX IF NOT EXISTS fifo_computation_log_version_mode_idx
  ON fifo_computation_log (allocation_version, computation_mode, computation_start DESC);

-- Trades the engine cannot use (zero or negative size, unknown side, ...). They are
-- excluded from FIFO and listed here with the reason until they are corrected.
CREATE TABLE IF NOT EXISTS fifo_rejected_trades (
  order_id varchar PRIMARY KEY,
  symbol varchar,
  reason text NOT NULL,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE IF EXISTS fifo_rejected_trades;
DROP TABLE IF EXISTS fifo_versions;
DROP TABLE IF EXISTS fifo_symbol_progress;
DROP TABLE IF EXISTS fifo_lots;
