/** fifo_symbol_progress and fifo_versions: how far each version's allocations reach. */
import type pg from 'pg';
import type { TradeKey } from '../fifo/index.ts';
import { utcText } from './sql.ts';

export interface SymbolProgress {
  readonly symbol: string;
  readonly last: TradeKey;
}

export async function readProgress(
  client: pg.ClientBase,
  version: number,
  symbol: string,
): Promise<TradeKey | null> {
  const { rows } = await client.query<{ time: string; side: 'buy' | 'sell'; order_id: string }>(
    `SELECT ${utcText('last_order_time')} AS time, last_side AS side, last_order_id AS order_id
     FROM fifo_symbol_progress WHERE allocation_version = $1 AND symbol = $2`,
    [version, symbol],
  );
  const row = rows[0];
  return row ? { time: row.time, side: row.side, orderId: row.order_id } : null;
}

export async function writeProgress(
  client: pg.ClientBase,
  version: number,
  entries: readonly SymbolProgress[],
): Promise<void> {
  if (entries.length === 0) return;
  await client.query(
    `INSERT INTO fifo_symbol_progress (allocation_version, symbol, last_order_time, last_side, last_order_id)
     SELECT $1, u.symbol, u.t::timestamptz, u.side, u.order_id
     FROM unnest($2::varchar[], $3::text[], $4::varchar[], $5::varchar[]) AS u(symbol, t, side, order_id)
     ON CONFLICT (allocation_version, symbol) DO UPDATE SET
       last_order_time = EXCLUDED.last_order_time, last_side = EXCLUDED.last_side,
       last_order_id = EXCLUDED.last_order_id, updated_at = now()`,
    [
      version,
      entries.map((e) => e.symbol),
      entries.map((e) => e.last.time),
      entries.map((e) => e.last.side),
      entries.map((e) => e.last.orderId),
    ],
  );
}

export async function deleteProgress(
  client: pg.ClientBase,
  version: number,
  symbols: readonly string[],
): Promise<void> {
  if (symbols.length === 0) return;
  await client.query(
    'DELETE FROM fifo_symbol_progress WHERE allocation_version = $1 AND symbol = ANY($2::varchar[])',
    [version, symbols],
  );
}

/** Registers a version so change capture records changes for it from now on. */
export async function registerVersion(client: pg.ClientBase, version: number): Promise<void> {
  await client.query('INSERT INTO fifo_versions (allocation_version) VALUES ($1) ON CONFLICT DO NOTHING', [
    version,
  ]);
}

/** When the version's last full rebuild completed; null if it never did. */
export async function lastFullRebuild(client: pg.ClientBase, version: number): Promise<string | null> {
  const { rows } = await client.query<{ at: string | null }>(
    `SELECT ${utcText('last_full_at')} AS at FROM fifo_versions WHERE allocation_version = $1`,
    [version],
  );
  return rows[0]?.at ?? null;
}

export async function markFullRebuild(client: pg.ClientBase, version: number): Promise<void> {
  await client.query('UPDATE fifo_versions SET last_full_at = now() WHERE allocation_version = $1', [
    version,
  ]);
}

/**
 * Symbols that have anything stored in a version, by a loose index scan (one index probe
 * per symbol, not a scan of every allocation).
 */
export async function storedSymbols(
  client: pg.ClientBase,
  version: number,
  scope: readonly string[] | null = null,
): Promise<string[]> {
  if (scope !== null) {
    // A partition's symbols: one probe each.
    const { rows } = await client.query<{ symbol: string }>(
      `SELECT s.symbol FROM unnest($2::varchar[]) AS s(symbol)
       WHERE EXISTS (SELECT 1 FROM fifo_allocations a WHERE a.allocation_version = $1 AND a.symbol = s.symbol)
          OR EXISTS (SELECT 1 FROM fifo_lots l WHERE l.allocation_version = $1 AND l.symbol = s.symbol)
          OR EXISTS (SELECT 1 FROM fifo_symbol_progress p WHERE p.allocation_version = $1 AND p.symbol = s.symbol)`,
      [version, scope],
    );
    return rows.map((r) => r.symbol);
  }
  const { rows } = await client.query<{ symbol: string }>(
    `WITH RECURSIVE a AS (
       (SELECT symbol FROM fifo_allocations WHERE allocation_version = $1 ORDER BY symbol LIMIT 1)
       UNION ALL
       SELECT (SELECT symbol FROM fifo_allocations WHERE allocation_version = $1 AND symbol > a.symbol
               ORDER BY symbol LIMIT 1)
       FROM a WHERE a.symbol IS NOT NULL
     ), l AS (
       (SELECT symbol FROM fifo_lots WHERE allocation_version = $1 ORDER BY symbol LIMIT 1)
       UNION ALL
       SELECT (SELECT symbol FROM fifo_lots WHERE allocation_version = $1 AND symbol > l.symbol
               ORDER BY symbol LIMIT 1)
       FROM l WHERE l.symbol IS NOT NULL
     )
     SELECT symbol FROM a WHERE symbol IS NOT NULL
     UNION SELECT symbol FROM l WHERE symbol IS NOT NULL
     UNION SELECT symbol FROM fifo_symbol_progress WHERE allocation_version = $1`,
    [version],
  );
  return rows.map((r) => r.symbol);
}
