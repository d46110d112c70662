/**
 * The parallel run's comparison of two allocation versions (`fifo compare --versions 2,3`), per
 * sell and in total, before switching FIFO_ALLOCATION_VERSION from one to the other.
 */
import type pg from 'pg';
import { utcText } from '../db/sql.ts';
import { VersionError } from './versions.ts';

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
