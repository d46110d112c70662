/**
 * The parallel run: compare two allocation versions (`fifo compare --versions 2,3`) and
 * delete the versions no longer needed (`fifo prune --keep N`).
 *
 * The version the functions and the report use is FIFO_ALLOCATION_VERSION (the CDK context
 * key allocationVersion sets it on every function); switching it is the cut-over, and
 * switching it back is the rollback, as long as the old version is kept.
 */
import type pg from 'pg';
import type { Database } from '../db/pool.ts';
import { acquire } from '../db/pool.ts';
import { tryLockVersion, unlockVersion } from '../db/run-log.ts';
import { utcText } from '../db/sql.ts';

/** Every table that holds rows per allocation version; removing a version empties it from all. */
export const VERSIONED_TABLES = [
  'fifo_allocations',
  'fifo_lots',
  'fifo_symbol_progress',
  'fifo_trade_changes',
  'fifo_versions',
] as const;

export class VersionError extends Error {
  override name = 'VersionError';
}

// --- compare --------------------------------------------------------------------------------

export type SellComparisonStatus = 'pnl_differs' | 'slices_differ' | 'only_a' | 'only_b';

export interface SellComparison {
  readonly sellOrderId: string;
  readonly symbol: string;
  readonly sellTime: string;
  /** Σ pnl of the sell's rows in version a (unmatched rows count 0); null when absent. */
  readonly pnlA: string | null;
  readonly pnlB: string | null;
  /** pnlB - pnlA, an absent side counting 0. */
  readonly difference: string;
  readonly rowsA: number;
  readonly rowsB: number;
  readonly status: SellComparisonStatus;
}

export interface VersionTotals {
  readonly version: number;
  readonly allocations: number;
  readonly sells: number;
  /** Σ pnl_usd, exact. */
  readonly realizedPnl: string;
  readonly unmatchedSells: number;
}

export interface VersionComparison {
  readonly a: VersionTotals;
  readonly b: VersionTotals;
  /** b.realizedPnl - a.realizedPnl. */
  readonly totalDifference: string;
  readonly sells: {
    readonly inBoth: number;
    readonly same: number;
    /** Same sell, different PnL. */
    readonly pnlDiffers: number;
    /** Same PnL, but the slices (lots, sizes, amounts) differ. */
    readonly slicesDiffer: number;
    readonly onlyInA: number;
    readonly onlyInB: number;
  };
  /** Allocation rows (sell, lot) present in one version only. */
  readonly rows: { readonly onlyInA: number; readonly onlyInB: number };
  /** The differing sells, largest |difference| first (at most `limit`). */
  readonly differences: SellComparison[];
}

const dec = (expression: string) => `coalesce(trim_scale(${expression}), 0)::text`;

/** Per sell of one version: PnL, rows, and a digest of its slices. */
const SELLS_OF = (param: string) => `
  SELECT sell_order_id, min(symbol) AS symbol, min(sell_time) AS sell_time, count(*) AS rows,
         coalesce(sum(pnl_usd), 0) AS pnl, bool_or(buy_order_id IS NULL) AS unmatched,
         md5(string_agg(concat_ws('|', coalesce(buy_order_id, ''), trim_scale(allocated_size),
                                  trim_scale(cost_basis_usd), trim_scale(net_proceeds_usd), trim_scale(pnl_usd)),
                        ',' ORDER BY coalesce(buy_order_id, '') COLLATE "C")) AS digest
  FROM fifo_allocations WHERE allocation_version = ${param}
  GROUP BY sell_order_id`;

const COMPARED = `
  WITH a AS (${SELLS_OF('$1')}), b AS (${SELLS_OF('$2')}),
  joined AS (
    SELECT coalesce(a.sell_order_id, b.sell_order_id) AS sell_order_id,
           coalesce(a.symbol, b.symbol) AS symbol, coalesce(a.sell_time, b.sell_time) AS sell_time,
           a.pnl AS pnl_a, b.pnl AS pnl_b, coalesce(b.pnl, 0) - coalesce(a.pnl, 0) AS difference,
           coalesce(a.rows, 0) AS rows_a, coalesce(b.rows, 0) AS rows_b,
           a.unmatched AS unmatched_a, b.unmatched AS unmatched_b,
           CASE WHEN a.sell_order_id IS NULL THEN 'only_b'
                WHEN b.sell_order_id IS NULL THEN 'only_a'
                WHEN a.pnl <> b.pnl THEN 'pnl_differs'
                WHEN a.digest <> b.digest THEN 'slices_differ'
                ELSE 'same' END AS status
    FROM a FULL JOIN b ON a.sell_order_id = b.sell_order_id
  )`;

export interface CompareOptions {
  /** Differing sells to list. @default 20 */
  readonly limit?: number;
}

/** Compares two versions per sell and in total, in one read-only snapshot. */
export async function compareVersions(
  client: pg.ClientBase,
  versionA: number,
  versionB: number,
  options: CompareOptions = {},
): Promise<VersionComparison> {
  if (versionA === versionB) throw new VersionError('compare two different versions');
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const { rows: sums } = await client.query<{
      in_both: string;
      same: string;
      pnl_differs: string;
      slices_differ: string;
      only_a: string;
      only_b: string;
      sells_a: string;
      sells_b: string;
      rows_a: string;
      rows_b: string;
      pnl_a: string;
      pnl_b: string;
      unmatched_a: string;
      unmatched_b: string;
      total_difference: string;
    }>(
      `${COMPARED}
       SELECT count(*) FILTER (WHERE status NOT IN ('only_a', 'only_b'))::text AS in_both,
              count(*) FILTER (WHERE status = 'same')::text AS same,
              count(*) FILTER (WHERE status = 'pnl_differs')::text AS pnl_differs,
              count(*) FILTER (WHERE status = 'slices_differ')::text AS slices_differ,
              count(*) FILTER (WHERE status = 'only_a')::text AS only_a,
              count(*) FILTER (WHERE status = 'only_b')::text AS only_b,
              count(pnl_a)::text AS sells_a, count(pnl_b)::text AS sells_b,
              coalesce(sum(rows_a), 0)::text AS rows_a, coalesce(sum(rows_b), 0)::text AS rows_b,
              ${dec('sum(pnl_a)')} AS pnl_a, ${dec('sum(pnl_b)')} AS pnl_b,
              count(*) FILTER (WHERE unmatched_a)::text AS unmatched_a,
              count(*) FILTER (WHERE unmatched_b)::text AS unmatched_b,
              ${dec('sum(difference)')} AS total_difference
       FROM joined`,
      [versionA, versionB],
    );
    const { rows: differences } = await client.query<{
      sell_order_id: string;
      symbol: string;
      sell_time: string;
      pnl_a: string | null;
      pnl_b: string | null;
      difference: string;
      rows_a: string;
      rows_b: string;
      status: SellComparisonStatus;
    }>(
      `${COMPARED}
       SELECT sell_order_id, symbol, ${utcText('sell_time')} AS sell_time,
              trim_scale(pnl_a)::text AS pnl_a, trim_scale(pnl_b)::text AS pnl_b, ${dec('difference')} AS difference,
              rows_a::text, rows_b::text, status
       FROM joined WHERE status <> 'same'
       ORDER BY abs(difference) DESC, sell_time, sell_order_id COLLATE "C"
       LIMIT $3`,
      [versionA, versionB, options.limit ?? 20],
    );
    const { rows: rowDiff } = await client.query<{ only_a: string; only_b: string }>(
      `SELECT count(*) FILTER (WHERE y.sell_order_id IS NULL)::text AS only_a,
              count(*) FILTER (WHERE x.sell_order_id IS NULL)::text AS only_b
       FROM (SELECT sell_order_id, coalesce(buy_order_id, '') AS buy FROM fifo_allocations
             WHERE allocation_version = $1) x
       FULL JOIN (SELECT sell_order_id, coalesce(buy_order_id, '') AS buy FROM fifo_allocations
                  WHERE allocation_version = $2) y
         ON x.sell_order_id = y.sell_order_id AND x.buy = y.buy
       WHERE x.sell_order_id IS NULL OR y.sell_order_id IS NULL`,
      [versionA, versionB],
    );
    await client.query('COMMIT');
    const s = sums[0]!;
    return {
      a: {
        version: versionA,
        allocations: Number(s.rows_a),
        sells: Number(s.sells_a),
        realizedPnl: s.pnl_a,
        unmatchedSells: Number(s.unmatched_a),
      },
      b: {
        version: versionB,
        allocations: Number(s.rows_b),
        sells: Number(s.sells_b),
        realizedPnl: s.pnl_b,
        unmatchedSells: Number(s.unmatched_b),
      },
      totalDifference: s.total_difference,
      sells: {
        inBoth: Number(s.in_both),
        same: Number(s.same),
        pnlDiffers: Number(s.pnl_differs),
        slicesDiffer: Number(s.slices_differ),
        onlyInA: Number(s.only_a),
        onlyInB: Number(s.only_b),
      },
      rows: { onlyInA: Number(rowDiff[0]!.only_a), onlyInB: Number(rowDiff[0]!.only_b) },
      differences: differences.map((d) => ({
        sellOrderId: d.sell_order_id,
        symbol: d.symbol,
        sellTime: d.sell_time,
        pnlA: d.pnl_a,
        pnlB: d.pnl_b,
        difference: d.difference,
        rowsA: Number(d.rows_a),
        rowsB: Number(d.rows_b),
        status: d.status,
      })),
    };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

// --- versions and prune ---------------------------------------------------------------------

export interface StoredVersion {
  readonly version: number;
  readonly allocations: number;
  readonly lots: number;
  readonly progress: number;
  readonly changes: number;
  /** Has a fifo_versions row. */
  readonly registered: boolean;
}

/** Every version anything is stored for, lowest first. */
export async function listVersions(q: pg.ClientBase): Promise<StoredVersion[]> {
  const { rows } = await q.query<{
    v: number;
    allocations: string;
    lots: string;
    progress: string;
    changes: string;
    registered: boolean;
  }>(
    `WITH counts AS (
       SELECT allocation_version AS v, count(*) AS allocations, 0::bigint AS lots, 0::bigint AS progress,
              0::bigint AS changes, false AS registered
       FROM fifo_allocations GROUP BY allocation_version
       UNION ALL SELECT allocation_version, 0, count(*), 0, 0, false FROM fifo_lots GROUP BY allocation_version
       UNION ALL SELECT allocation_version, 0, 0, count(*), 0, false FROM fifo_symbol_progress GROUP BY allocation_version
       UNION ALL SELECT allocation_version, 0, 0, 0, count(*), false FROM fifo_trade_changes GROUP BY allocation_version
       UNION ALL SELECT allocation_version, 0, 0, 0, 0, true FROM fifo_versions
     )
     SELECT v, sum(allocations)::text AS allocations, sum(lots)::text AS lots, sum(progress)::text AS progress,
            sum(changes)::text AS changes, bool_or(registered) AS registered
     FROM counts GROUP BY v ORDER BY v`,
  );
  return rows.map((r) => ({
    version: r.v,
    allocations: Number(r.allocations),
    lots: Number(r.lots),
    progress: Number(r.progress),
    changes: Number(r.changes),
    registered: r.registered,
  }));
}

export interface PruneOptions {
  /** How many versions to keep, the active one included (>= 1). */
  readonly keep: number;
  /** The version the functions and the report use: never deleted. */
  readonly active: number;
  /** Say what would be deleted, delete nothing. */
  readonly dryRun?: boolean;
}

export interface PruneResult {
  readonly active: number;
  readonly keep: number;
  readonly dryRun: boolean;
  readonly kept: StoredVersion[];
  /** Deleted (or, in a dry run, to delete), with what each held. */
  readonly deleted: StoredVersion[];
  /** Views whose definition names a deleted version: they will answer with no rows. */
  readonly warnings: string[];
}

/**
 * Which versions `prune --keep N` keeps: the active version, and the N-1 highest-numbered
 * others (versions are built in increasing order, `full --version N+1`). Pure.
 */
export function planPrune(
  versions: readonly number[],
  keep: number,
  active: number,
): {
  keep: number[];
  remove: number[];
} {
  if (!Number.isInteger(keep) || keep < 1) {
    throw new VersionError(
      `--keep must be a whole number >= 1 (the active version is always kept), got ${keep}`,
    );
  }
  const others = [...new Set(versions)].filter((v) => v !== active).sort((a, b) => b - a);
  const kept = [active, ...others.slice(0, keep - 1)].sort((a, b) => a - b);
  const remove = others.slice(keep - 1).sort((a, b) => a - b);
  if (remove.includes(active)) throw new VersionError(`refusing to delete the active version ${active}`);
  return { keep: kept, remove };
}

/**
 * Deletes the allocations, lots, progress, pending changes and fifo_versions row of every
 * version `planPrune` does not keep, in one transaction, holding each deleted version's
 * advisory lock so no run of it writes meanwhile. The computation log is kept (history).
 *
 * Refuses (VersionError) when the active version holds nothing (a wrong active version would
 * otherwise leave the functions with no data), or when a run of a version to delete is going.
 */
export async function pruneVersions(db: Database, options: PruneOptions): Promise<PruneResult> {
  const client = await acquire(db);
  const locked: number[] = [];
  try {
    const stored = await listVersions(client);
    const active = stored.find((v) => v.version === options.active);
    if (!active || (active.allocations === 0 && active.lots === 0 && !active.registered)) {
      throw new VersionError(
        `refusing to prune: the active version ${options.active} holds nothing here ` +
          `(versions stored: ${stored.map((v) => v.version).join(', ') || 'none'}). ` +
          'Check FIFO_ALLOCATION_VERSION / --active: prune never deletes the version in use, and will not guess it.',
      );
    }
    const plan = planPrune(
      stored.map((v) => v.version),
      options.keep,
      options.active,
    );
    const deleted = stored.filter((v) => plan.remove.includes(v.version));
    const kept = stored.filter((v) => plan.keep.includes(v.version));
    const warnings = await viewWarnings(client, plan.remove);
    const result = {
      active: options.active,
      keep: options.keep,
      dryRun: options.dryRun ?? false,
      kept,
      deleted,
      warnings,
    };
    if (options.dryRun || deleted.length === 0) return result;
    for (const v of plan.remove) {
      if (!(await tryLockVersion(client, v))) {
        throw new VersionError(
          `refusing to prune: a run of version ${v} is in progress; try again when it ends`,
        );
      }
      locked.push(v);
    }
    await client.query('BEGIN');
    try {
      for (const table of VERSIONED_TABLES) {
        await client.query(`DELETE FROM ${table} WHERE allocation_version = ANY ($1::int[])`, [plan.remove]);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
    return result;
  } finally {
    for (const v of locked) await unlockVersion(client, v).catch(() => {});
    client.release();
  }
}

/** Views whose definition filters on one of these versions (e.g. the bot's `allocation_version = 2`). */
async function viewWarnings(q: pg.ClientBase, versions: readonly number[]): Promise<string[]> {
  if (versions.length === 0) return [];
  const { rows } = await q.query<{ name: string; definition: string }>(
    `SELECT c.relname::text AS name, pg_get_viewdef(c.oid) AS definition FROM pg_class c
     WHERE c.relkind IN ('v', 'm') AND c.relnamespace = ANY (
       SELECT oid FROM pg_namespace WHERE nspname = ANY (current_schemas(false)))
     ORDER BY c.relname`,
  );
  const warnings: string[] = [];
  for (const v of versions) {
    const pattern = new RegExp(`allocation_version\\s*=\\s*${v}(?![0-9])`);
    const names = rows.filter((r) => pattern.test(r.definition)).map((r) => r.name);
    if (names.length > 0) {
      warnings.push(
        `view${names.length > 1 ? 's' : ''} ${names.join(', ')} read${names.length > 1 ? '' : 's'} version ${v}: ` +
          'after the prune they answer with no rows (redefine them on the active version first)',
      );
    }
  }
  return warnings;
}
