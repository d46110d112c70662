/**
 * How many partitions a full rebuild may have, and how many `fifo full` uses when it is not
 * told. Loads no job code, so `fifo --help` can show the bounds.
 */
import type { Database } from '../../db/pool.ts';

/** The most partitions a run may have: more would only queue on the database's cores. */
export const MAX_PARTITIONS = 256;

/**
 * The smallest history a rebuild splits by itself. Each partition starts a worker thread that
 * loads the jobs and opens its own connections; below this size that costs more than the
 * split saves (docs/performance.md, "When to partition").
 */
export const MIN_TRADES_TO_PARTITION = 200_000;

/**
 * The partitions for a rebuild given none: one per core, up to MAX_PARTITIONS, when the trade
 * records number `minTrades` or more and the database can take bulk writes from several
 * sessions; otherwise one. Counts at most `minTrades` rows.
 */
export async function automaticPartitions(
  db: Database,
  cores: number,
  minTrades = MIN_TRADES_TO_PARTITION,
): Promise<number> {
  if (cores <= 1 || !db.supportsCopy) return 1;
  const { rows } = await db.pool.query<{ big: boolean }>(
    'SELECT count(*) >= $1 AS big FROM (SELECT 1 FROM trade_records LIMIT $1) AS enough',
    [minTrades],
  );
  return rows[0]?.big ? Math.min(cores, MAX_PARTITIONS) : 1;
}
