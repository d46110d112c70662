/**
 * One writer per symbol at a time, whichever job: every transaction that writes a symbol's
 * rows first locks the symbol's row in fifo_symbol_locks (migrations/0010). A partition waits
 * for the lock; an incremental run skips what is held and leaves it for its next run. Row
 * locks live in the rows, not in PostgreSQL's shared lock table, so one transaction may hold
 * a partition's thousands.
 */
import type pg from 'pg';
import { compareCodePoints } from '../../fifo/index.ts';

/** Makes sure the symbols have a lock row (committed with the caller's transaction). */
export async function ensureSymbolLockRows(
  client: pg.ClientBase,
  version: number,
  symbols: readonly string[],
): Promise<void> {
  if (symbols.length === 0) return;
  await client.query(
    `INSERT INTO fifo_symbol_locks (allocation_version, symbol)
     SELECT $1, s FROM unnest($2::varchar[]) AS s ORDER BY s COLLATE "C" ON CONFLICT DO NOTHING`,
    [version, [...symbols].sort(compareCodePoints)],
  );
}

/**
 * Locks the symbols that no other transaction holds, until the caller's transaction ends, and
 * returns them. Symbols that share a group (linked by a trade that moved between them) are
 * taken together or not at all.
 */
export async function lockFreeSymbols(
  client: pg.ClientBase,
  version: number,
  groups: readonly (readonly string[])[],
): Promise<string[]> {
  const symbols = groups.flat();
  if (symbols.length === 0) return [];
  await ensureSymbolLockRows(client, version, symbols);
  const { rows } = await client.query<{ symbol: string }>(
    `SELECT symbol FROM fifo_symbol_locks WHERE allocation_version = $1 AND symbol = ANY($2::varchar[])
     ORDER BY symbol COLLATE "C" FOR UPDATE SKIP LOCKED`,
    [version, symbols],
  );
  const held = new Set(rows.map((r) => r.symbol));
  // A group partly held waits whole; the locks taken on its free members are harmless.
  return groups.filter((group) => group.every((s) => held.has(s))).flat();
}

/**
 * Locks every one of the symbols, waiting for the transactions that hold them (an incremental
 * run's batch holds them for seconds). The rows must exist: a plan creates them.
 */
export async function lockSymbols(
  client: pg.ClientBase,
  version: number,
  symbols: readonly string[],
): Promise<void> {
  if (symbols.length === 0) return;
  const { rows } = await client.query<{ n: number }>(
    `WITH locked AS (
       SELECT symbol FROM fifo_symbol_locks WHERE allocation_version = $1 AND symbol = ANY($2::varchar[])
       ORDER BY symbol COLLATE "C" FOR UPDATE)
     SELECT count(*)::int AS n FROM locked`,
    [version, symbols],
  );
  if (rows[0]!.n !== new Set(symbols).size) {
    throw new Error(
      `fifo_symbol_locks lacks rows for some of the ${symbols.length} symbols: plan the run again`,
    );
  }
}

/**
 * Locks the symbols other than `symbol` under which these sells are stored: a sell that moved
 * to `symbol` is deleted there, and that symbol is written too (rebuild-pass.ts). Waits like
 * lockSymbols; PostgreSQL breaks the rare deadlock with another partition, which then fails
 * and is run again.
 */
export async function lockSymbolsOfSells(
  client: pg.ClientBase,
  version: number,
  symbol: string,
  sells: readonly string[],
): Promise<void> {
  if (sells.length === 0) return;
  await client.query(
    `SELECT l.symbol FROM fifo_symbol_locks l
     WHERE l.allocation_version = $1 AND l.symbol IN (
       SELECT DISTINCT a.symbol FROM fifo_allocations a
       WHERE a.allocation_version = $1 AND a.symbol <> $2 AND a.sell_order_id = ANY($3::varchar[]))
     ORDER BY l.symbol COLLATE "C" FOR UPDATE`,
    [version, symbol, sells],
  );
}
