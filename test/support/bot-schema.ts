/**
 * A database shaped like the trading bot's (../shared/bot-schema.md): float8 trade columns,
 * the deprecated PnL columns, the bot's own fifo_allocations with cascading foreign keys and
 * version-2 rows, its computation log with a status check, and the four views.
 */
import type pg from 'pg';

export const BOT_SCHEMA_SQL = `
CREATE TABLE trade_records (
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
  "trigger" jsonb NOT NULL,
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
CREATE INDEX ix_trade_records_symbol ON trade_records (symbol);
CREATE INDEX ix_trade_records_symbol_order_time ON trade_records (symbol, order_time);

CREATE TABLE fifo_allocations (
  id bigserial PRIMARY KEY,
  sell_order_id varchar NOT NULL REFERENCES trade_records(order_id) ON DELETE CASCADE,
  buy_order_id varchar REFERENCES trade_records(order_id) ON DELETE CASCADE,
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
  CHECK (buy_order_id IS NOT NULL OR notes IS NOT NULL),
  CHECK (buy_time <= sell_time)
);
CREATE UNIQUE INDEX uq_fifo_alloc_sell_buy_version
  ON fifo_allocations (sell_order_id, COALESCE(buy_order_id, ''), allocation_version);

CREATE TABLE fifo_computation_log (
  id serial PRIMARY KEY,
  symbol varchar,
  allocation_version int,
  allocation_batch_id uuid,
  computation_start timestamptz,
  computation_end timestamptz,
  computation_duration_ms int,
  status varchar NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'partial')),
  buys_processed int,
  sells_processed int,
  allocations_created int,
  error_message text,
  symbols_processed int,
  total_pnl_computed numeric,
  computation_mode varchar,
  triggered_by varchar,
  created_at timestamptz DEFAULT now()
);
CREATE TABLE fifo_inventory_snapshot (id serial PRIMARY KEY, symbol varchar, snapshot jsonb);
CREATE TABLE manual_review_queue (
  id serial PRIMARY KEY,
  order_id varchar NOT NULL,
  issue_type varchar NOT NULL,
  severity varchar,
  status varchar,
  description text,
  created_at timestamptz DEFAULT now(),
  UNIQUE (order_id, issue_type)
);

CREATE VIEW v_allocation_health AS
  SELECT allocation_version, count(*) AS allocations,
         count(*) FILTER (WHERE buy_order_id IS NULL) AS unmatched
  FROM fifo_allocations GROUP BY allocation_version;
CREATE VIEW v_unmatched_sells AS
  SELECT sell_order_id, symbol, allocated_size, sell_time FROM fifo_allocations
  WHERE buy_order_id IS NULL AND allocation_version = 2;
CREATE VIEW v_pnl_by_symbol AS
  SELECT symbol, sum(pnl_usd) AS pnl, date_trunc('day', sell_time) AS day FROM fifo_allocations
  WHERE allocation_version = 2 GROUP BY symbol, date_trunc('day', sell_time);
CREATE VIEW v_allocation_discrepancies AS
  SELECT t.order_id, t.pnl_usd AS legacy_pnl, sum(a.pnl_usd) AS fifo_pnl
  FROM trade_records t JOIN fifo_allocations a ON a.sell_order_id = t.order_id AND a.allocation_version = 2
  WHERE t.side = 'sell' GROUP BY t.order_id, t.pnl_usd;
`;

/** Trades and the bot's (stale-lot) version-2 allocations for them. */
export const BOT_DATA_SQL = `
INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, total_fees_usd, "trigger", status,
                           pnl_usd, realized_profit, cost_basis_usd, sale_proceeds_usd, remaining_size)
VALUES
  ('oct-buy', 'TOSHI-USD', 'buy', '2025-10-01T10:00:00Z', 0.000773, 40000, 0.1, '{"trigger":"roc_momo"}', 'filled',
   NULL, NULL, NULL, NULL, 6605),
  ('nov-buy', 'TOSHI-USD', 'buy', '2025-11-01T10:00:00Z', 0.000424, 33395, 0.05, '{"trigger":"roc_momo"}', 'filled',
   NULL, NULL, NULL, NULL, 33395),
  ('oct-sell', 'TOSHI-USD', 'sell', '2025-10-15T10:00:00Z', 0.0008, 33395, 0.1, '{"trigger":"tp"}', 'done',
   0.8, 0.8, 25.81, 26.716, NULL),
  ('nov-sell', 'TOSHI-USD', 'sell', '2025-11-02T10:00:00Z', 0.000423, 33395, 0.05, '{"trigger":"sl"}', NULL,
   -16.45, -16.45, 25.81, 14.126, NULL);
INSERT INTO fifo_allocations (sell_order_id, buy_order_id, symbol, allocated_size, buy_price, sell_price,
  buy_fees_per_unit, sell_fees_per_unit, cost_basis_usd, proceeds_usd, net_proceeds_usd, pnl_usd, buy_time,
  sell_time, allocation_version, notes)
VALUES
  ('oct-sell', 'oct-buy', 'TOSHI-USD', 33395, 0.000773, 0.0008, 0.0000025, 0.000003, 25.8144, 26.716, 26.616, 0.8016,
   '2025-10-01T10:00:00Z', '2025-10-15T10:00:00Z', 2, NULL),
  ('nov-sell', 'oct-buy', 'TOSHI-USD', 33395, 0.000773, 0.000423, 0.0000025, 0.0000015, 25.8144, 14.126, 14.076,
   -11.7384, '2025-10-01T10:00:00Z', '2025-11-02T10:00:00Z', 2, 'stale lot');
INSERT INTO fifo_computation_log (allocation_version, computation_start, status, computation_mode)
VALUES (2, '2025-11-02T11:00:00Z', 'completed', 'full');
`;

export async function createBotSchema(db: pg.Pool | pg.ClientBase, withData = true): Promise<void> {
  await db.query(BOT_SCHEMA_SQL);
  if (withData) await db.query(BOT_DATA_SQL);
}

/**
 * Edge float8 values the legacy archive must keep bit for bit, as SQL literals: the classic
 * inexact sum, the smallest subnormal, the largest finite, tiny and negative zero, NaN and
 * the infinities.
 */
export const EDGE_FLOAT8 = [
  '0.1::float8 + 0.2::float8',
  "'1e-300'::float8",
  "'-0'::float8",
  "'5e-324'::float8",
  "'1.7976931348623157e308'::float8",
  "'-1.7976931348623157e308'::float8",
  "'2.2250738585072014e-308'::float8",
  "'NaN'::float8",
  "'Infinity'::float8",
  "'-Infinity'::float8",
] as const;

/**
 * A buy and a sell of BTC-USD in the last hours before `now` (FIFO pnl of the sell: +10 USD),
 * with the bot's legacy values on them: the sell's inline pnl_usd is 0.1 + 0.2 in float8
 * (0.30000000000000004), and the buy carries edge float8 values in the other deprecated
 * columns and a parent_id. No version-2 allocation: the sell exists only once FIFO runs.
 */
export async function addRecentBotTrades(db: pg.Pool | pg.ClientBase, now: Date = new Date()): Promise<void> {
  const at = (hoursAgo: number) => new Date(now.getTime() - hoursAgo * 3_600_000).toISOString();
  await db.query(
    `INSERT INTO trade_records (order_id, parent_id, symbol, side, order_time, price, size, total_fees_usd, "trigger",
                                status, pnl_usd, realized_profit, cost_basis_usd, sale_proceeds_usd,
                                net_sale_proceeds_usd)
     VALUES ('recent-buy', 'legacy-parent', 'BTC-USD', 'buy', $1, 100, 1, 0, '{}', 'filled',
             '-0'::float8, 0.1::float8 + 0.2::float8, '5e-324'::float8, '1.7976931348623157e308'::float8,
             '1e-300'::float8),
            ('recent-sell', 'recent-buy', 'BTC-USD', 'sell', $2, 110, 1, 0, '{}', 'filled',
             0.1::float8 + 0.2::float8, 12.5, 100, 110, 110)`,
    [at(3), at(1)],
  );
}
