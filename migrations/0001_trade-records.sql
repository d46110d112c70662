-- Up Migration
-- The bot's trade_records (docs/design.md §3.1). On the bot's database it exists and is
-- left as it is, except for what fifo-ledger needs and is missing. The deprecated PnL
-- columns are created only on an empty database, so the bot's writer keeps working there;
-- nothing in fifo-ledger reads them.
CREATE TABLE IF NOT EXISTS trade_records (
  order_id varchar PRIMARY KEY,
  parent_id varchar,
  parent_ids varchar[],
  symbol varchar NOT NULL,
  side varchar NOT NULL,
  order_time timestamptz NOT NULL,
  price double precision NOT NULL,
  size double precision NOT NULL,
  pnl_usd double precision,
  total_fees_usd double precision,
  "trigger" jsonb NOT NULL DEFAULT '{}'::jsonb,
  order_type varchar,
  status varchar,
  source varchar,
  cost_basis_usd double precision,
  sale_proceeds_usd double precision,
  net_sale_proceeds_usd double precision,
  remaining_size double precision,
  realized_profit double precision,
  ingest_via text,
  last_reconciled_at timestamptz,
  last_reconciled_via text
);

-- Columns the trade source and the engine need, on a bot database that predates them.
ALTER TABLE trade_records ADD COLUMN IF NOT EXISTS total_fees_usd double precision;
ALTER TABLE trade_records ADD COLUMN IF NOT EXISTS status varchar;
ALTER TABLE trade_records ADD COLUMN IF NOT EXISTS remaining_size double precision;

-- The jobs read one symbol's trades in time order. The bot already has an index on
-- (symbol, order_time) under an ORM name: create ours only when no such index exists.
DO $$
BEGIN
  IF NOT EXISTS (
    SELECT 1
    FROM pg_index i
    JOIN pg_attribute a1 ON a1.attrelid = i.indrelid AND a1.attnum = i.indkey[0]
    JOIN pg_attribute a2 ON a2.attrelid = i.indrelid AND a2.attnum = i.indkey[1]
    WHERE i.indrelid = 'trade_records'::regclass AND a1.attname = 'symbol' AND a2.attname = 'order_time'
  ) THEN
    CREATE INDEX trade_records_symbol_order_time_idx ON trade_records (symbol, order_time);
  END IF;
END
$$;

-- The trade source: the one view the engine reads. It keeps filled trades (status filled or
-- done, or NULL on rows back-filled from the exchange), normalises side and exposes the
-- float8 columns as text, which is their shortest exact round-trip form. Validation of
-- values (zero, negative, NaN, unknown side) happens in the engine's input layer, so a bad
-- row is reported rather than silently dropped here. An operator whose table has other
-- column names redefines this view and nothing else.
CREATE OR REPLACE VIEW fifo_trade_source AS
SELECT
  t.order_id,
  t.symbol,
  lower(btrim(t.side)) AS side,
  t.order_time,
  t.price::text AS price,
  t.size::text AS size,
  t.total_fees_usd::text AS fee,
  t.remaining_size::text AS remaining_size
FROM trade_records t
WHERE t.status IS NULL OR lower(t.status) IN ('filled', 'done');

-- Down Migration
DROP VIEW IF EXISTS fifo_trade_source;
