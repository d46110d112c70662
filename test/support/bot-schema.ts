/**
 * The trading bot's database, from its exact production DDL: test/fixtures/bot-schema.sql is
 * a byte-identical copy of ../shared/bot-schema.sql (test/db/bot-schema-fixture.test.ts checks
 * it whenever ../shared is present). Variants of an older or tidied-up bot are derived from it
 * by dropping objects, never by writing another schema.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

export const BOT_SCHEMA_FILE = fileURLToPath(new URL('../fixtures/bot-schema.sql', import.meta.url));
/** Where the project's shared facts keep the original, beside the repository. */
export const SHARED_BOT_SCHEMA_FILE = fileURLToPath(
  new URL('../../../shared/bot-schema.sql', import.meta.url),
);

export const BOT_SCHEMA_SQL = readFileSync(BOT_SCHEMA_FILE, 'utf8');

/** The bot's four views, which read fifo_allocations (docs/design.md §3.1: adoption must keep them). */
export const BOT_VIEWS = [
  'v_allocation_health',
  'v_unmatched_sells',
  'v_pnl_by_symbol',
  'v_allocation_discrepancies',
] as const;

/** The deprecated columns of trade_records (docs/design.md §3.1: they may already have been dropped). */
export const BOT_DEPRECATED_COLUMNS = [
  'parent_id',
  'parent_ids',
  'pnl_usd',
  'cost_basis_usd',
  'sale_proceeds_usd',
  'net_sale_proceeds_usd',
  'realized_profit',
] as const;

/** Shapes the bot's database may have, each the real DDL minus some objects. */
export const BOT_VARIANTS = {
  /** Production as it stands. */
  production: '',
  /** The deprecated PnL columns already dropped (the snapshot table is a copy, not a view: it stays). */
  deprecatedColumnsDropped: `${BOT_DEPRECATED_COLUMNS.map((c) => `ALTER TABLE trade_records DROP COLUMN ${c} CASCADE;`).join('\n')}`,
  /** The reporting views never created. */
  viewsMissing: BOT_VIEWS.map((v) => `DROP VIEW ${v};`).join('\n'),
  /** An older bot, from before its FIFO migration: only trade_records and its neighbours. */
  beforeFifoTables: `${BOT_VIEWS.map((v) => `DROP VIEW ${v};`).join('\n')}
    DROP TABLE fifo_allocations, fifo_computation_log, fifo_inventory_snapshot;`,
} as const;
export type BotVariant = keyof typeof BOT_VARIANTS;

/**
 * Trades and the bot's (stale-lot) version-2 allocations, log row and review-queue row,
 * written as the bot's programs write them (docs/design.md §3.1, "What the bot's own programs keep
 * doing"): new buys with remaining_size = size, a log row with computation_start set by the
 * script and symbols_processed the list of symbols.
 */
export const BOT_DATA_SQL = `
INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, total_fees_usd, "trigger", status,
                           source, pnl_usd, realized_profit, cost_basis_usd, sale_proceeds_usd, remaining_size)
VALUES
  ('oct-buy', 'TOSHI-USD', 'buy', '2025-10-01T10:00:00Z', 0.000773, 40000, 0.1, '{"trigger":"roc_momo"}', 'filled',
   'webhook', NULL, NULL, NULL, NULL, 6605),
  ('nov-buy', 'TOSHI-USD', 'buy', '2025-11-01T10:00:00Z', 0.000424, 33395, 0.05, '{"trigger":"roc_momo"}', 'filled',
   'websocket', NULL, NULL, NULL, NULL, 33395),
  ('oct-sell', 'TOSHI-USD', 'sell', '2025-10-15T10:00:00Z', 0.0008, 33395, 0.1, '{"trigger":"tp"}', 'done',
   'webhook', 0.8, 0.8, 25.81, 26.716, NULL),
  ('nov-sell', 'TOSHI-USD', 'sell', '2025-11-02T10:00:00Z', 0.000423, 33395, 0.05, '{"trigger":"sl"}', NULL,
   'reconciled', -16.45, -16.45, 25.81, 14.126, NULL);
INSERT INTO fifo_allocations (sell_order_id, buy_order_id, symbol, allocated_size, buy_price, sell_price,
  buy_fees_per_unit, sell_fees_per_unit, cost_basis_usd, proceeds_usd, net_proceeds_usd, pnl_usd, buy_time,
  sell_time, allocation_version, allocation_batch_id, notes)
VALUES
  ('oct-sell', 'oct-buy', 'TOSHI-USD', 33395, 0.000773, 0.0008, 0.0000025, 0.000003, 25.8144, 26.716, 26.616, 0.8016,
   '2025-10-01T10:00:00Z', '2025-10-15T10:00:00Z', 2, '00000000-0000-4000-8000-000000000002', NULL),
  ('nov-sell', 'oct-buy', 'TOSHI-USD', 33395, 0.000773, 0.000423, 0.0000025, 0.0000015, 25.8144, 14.126, 14.076,
   -11.7384, '2025-10-01T10:00:00Z', '2025-11-02T10:00:00Z', 2, '00000000-0000-4000-8000-000000000002', 'stale lot');
INSERT INTO fifo_computation_log (allocation_version, allocation_batch_id, computation_start, computation_end,
  computation_duration_ms, status, buys_processed, sells_processed, allocations_created, symbols_processed,
  total_pnl_computed, computation_mode, triggered_by)
VALUES (2, '00000000-0000-4000-8000-000000000002', '2025-11-02T11:00:00Z', '2025-11-02T11:00:21Z', 21600,
  'completed', 2, 2, 2, ARRAY['TOSHI-USD'], -10.9368, 'full', 'manual');
INSERT INTO manual_review_queue (order_id, issue_type, severity, description)
VALUES ('nov-sell', 'unmatched_sell', 'medium', 'sell matched to a stale lot');
`;

export interface BotSchemaOptions {
  /** Load BOT_DATA_SQL too (default true; not possible on `beforeFifoTables`). */
  readonly data?: boolean;
  /** Which shape (default `production`, the DDL as it is). */
  readonly variant?: BotVariant;
}

export async function createBotSchema(
  db: pg.Pool | pg.ClientBase,
  options: BotSchemaOptions = {},
): Promise<void> {
  const variant = options.variant ?? 'production';
  await db.query(BOT_SCHEMA_SQL);
  const withData = options.data ?? variant !== 'beforeFifoTables';
  if (withData) await db.query(BOT_DATA_SQL);
  if (BOT_VARIANTS[variant]) await db.query(BOT_VARIANTS[variant]);
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
