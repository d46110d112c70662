/** Helpers for database tests: raw trade rows, resets, and canonical snapshots of a version. */
import type pg from 'pg';
import { numericText, utcText } from '../../shared/db/sql.ts';
import type { JobLogger } from '../../shared/jobs/index.ts';

/** A trade_records row as the bot writes it; values are SQL literals' text (float8 columns). */
export interface BotTrade {
  order_id: string;
  symbol: string;
  side: string;
  order_time: string;
  price: string | null;
  size: string | null;
  fee?: string | null;
  status?: string | null;
}

export async function insertBotTrades(
  db: pg.Pool | pg.ClientBase,
  trades: readonly BotTrade[],
): Promise<void> {
  if (trades.length === 0) return;
  await db.query(
    `INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, total_fees_usd, status, "trigger")
     SELECT u.order_id, u.symbol, u.side, u.order_time::timestamptz, u.price::double precision,
            u.size::double precision, u.fee::double precision, u.status, '{}'::jsonb
     FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::text[], $5::text[], $6::text[], $7::text[], $8::varchar[])
       AS u(order_id, symbol, side, order_time, price, size, fee, status)`,
    [
      trades.map((t) => t.order_id),
      trades.map((t) => t.symbol),
      trades.map((t) => t.side),
      trades.map((t) => t.order_time),
      trades.map((t) => t.price),
      trades.map((t) => t.size),
      trades.map((t) => t.fee ?? null),
      trades.map((t) => (t.status === undefined ? 'filled' : t.status)),
    ],
  );
}

/** Empties every table fifo-ledger reads or writes, without firing change capture. */
export async function resetTables(db: pg.Pool | pg.ClientBase): Promise<void> {
  await db.query(
    `TRUNCATE trade_records, fifo_allocations, fifo_lots, fifo_trade_changes, fifo_symbol_progress,
              fifo_versions, fifo_computation_log, fifo_rejected_trades, fifo_mirror_writes`,
  );
}

const ALLOCATION_SNAPSHOT = `SELECT sell_order_id, buy_order_id, symbol, ${numericText('allocated_size')} AS allocated_size,
  ${numericText('buy_price')} AS buy_price, ${numericText('sell_price')} AS sell_price,
  ${numericText('buy_fees_per_unit')} AS buy_fees_per_unit, ${numericText('sell_fees_per_unit')} AS sell_fees_per_unit,
  ${numericText('cost_basis_usd')} AS cost_basis_usd, ${numericText('proceeds_usd')} AS proceeds_usd,
  ${numericText('net_proceeds_usd')} AS net_proceeds_usd, ${numericText('pnl_usd')} AS pnl_usd,
  ${utcText('buy_time')} AS buy_time, ${utcText('sell_time')} AS sell_time, notes
  FROM fifo_allocations WHERE allocation_version = $1
  ORDER BY symbol COLLATE "C", sell_time, sell_order_id COLLATE "C", buy_time NULLS LAST, buy_order_id COLLATE "C"`;

const LOT_SNAPSHOT = `SELECT buy_order_id, symbol, ${utcText('buy_time')} AS buy_time, ${numericText('buy_price')} AS buy_price,
  ${numericText('buy_fees_per_unit')} AS buy_fees_per_unit, ${numericText('size')} AS size,
  ${numericText('remaining_size')} AS remaining_size, ${numericText('remaining_cost_usd')} AS remaining_cost_usd
  FROM fifo_lots WHERE allocation_version = $1 ORDER BY symbol COLLATE "C", buy_time, buy_order_id COLLATE "C"`;

/** Every allocation and lot of a version, in a stable order, as canonical text. */
export async function snapshotVersion(db: pg.Pool | pg.ClientBase, version: number) {
  const allocations = (await db.query(ALLOCATION_SNAPSHOT, [version])).rows;
  const lots = (await db.query(LOT_SNAPSHOT, [version])).rows;
  return { allocations, lots };
}

/** A logger that keeps what it was told, to assert on. */
export function recordingLogger(): JobLogger & {
  lines: { level: string; message: string; fields: object }[];
} {
  const lines: { level: string; message: string; fields: object }[] = [];
  const at =
    (level: string) =>
    (message: string, ...extra: Record<string, unknown>[]) =>
      lines.push({ level, message, fields: Object.assign({}, ...extra) });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}
