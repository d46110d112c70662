/**
 * Legacy vs FIFO PnL per sell: the bot's inline figure (trade_records.pnl_usd, else
 * realized_profit) against the sum of the sell's FIFO slices in a version. The daily report's
 * legacy section and `fifo reconcile` both read it here.
 *
 * The legacy value comes from the live columns, or, when they are NULL or gone and the
 * caller asks for it, from fifo_legacy_pnl_archive (what `fifo legacy archive` moved there).
 * Column names come from a fixed list, never from data; every value is a parameter.
 */
import type pg from 'pg';
import { utcText } from '../db/sql.ts';
import { ARCHIVE_TABLE } from './archive.ts';

/** The deprecated PnL columns compared with FIFO, in order of preference. */
export const LEGACY_PNL_COLUMNS = ['pnl_usd', 'realized_profit'] as const;

export interface LegacyPnlRow {
  readonly sellOrderId: string;
  readonly symbol: string;
  readonly sellTime: string;
  readonly legacyPnl: string;
  /** Σ pnl of the matched slices; '0' when the sell is wholly unmatched. */
  readonly fifoPnl: string;
  /** fifo - legacy. */
  readonly difference: string;
  /** Where the legacy value came from. */
  readonly source: 'live' | 'archive';
}

export interface LegacyPnlComparison {
  /** The legacy columns found on trade_records, e.g. ['pnl_usd', 'realized_profit']. */
  readonly columns: string[];
  /** The archive was read (asked for, and the table exists). */
  readonly archive: boolean;
  /** Sells in the window with a legacy value, largest |difference| first. */
  readonly rows: LegacyPnlRow[];
  /** Sells in the window without a legacy value (not compared). */
  readonly withoutLegacy: number;
  readonly legacyTotal: string;
  readonly fifoTotal: string;
  /** fifoTotal - legacyTotal over the compared sells. */
  readonly totalDifference: string;
}

export interface LegacyPnlOptions {
  readonly version: number;
  /** Exclusive; '-infinity' for all time. */
  readonly start: string;
  /** Inclusive. */
  readonly end: string;
  /** Fall back to fifo_legacy_pnl_archive where the live value is NULL or its column is gone. */
  readonly archive?: boolean;
}

/** Exact decimal text of a numeric expression, '0' for NULL. */
const dec = (expression: string) => `coalesce(trim_scale(${expression}), 0)::text`;

/** Which legacy PnL columns trade_records has, and whether the archive table exists. */
export async function legacySources(
  q: pg.ClientBase,
): Promise<{ columns: (typeof LEGACY_PNL_COLUMNS)[number][]; archiveTable: boolean }> {
  const { rows: found } = await q.query<{ column_name: string }>(
    `SELECT column_name::text AS column_name FROM information_schema.columns
     WHERE table_name = 'trade_records' AND table_schema = ANY (current_schemas(false))
       AND column_name = ANY ($1::text[])`,
    [[...LEGACY_PNL_COLUMNS]],
  );
  const { rows: archive } = await q.query<{ exists: boolean }>(
    'SELECT to_regclass($1) IS NOT NULL AS exists',
    [ARCHIVE_TABLE],
  );
  return {
    columns: LEGACY_PNL_COLUMNS.filter((c) => found.some((f) => f.column_name === c)),
    archiveTable: archive[0]?.exists === true,
  };
}

/**
 * Legacy vs FIFO per sell of the version in the window. Null when there is nothing to compare
 * with: trade_records has no legacy PnL column (and the archive is not read or absent).
 */
export async function compareLegacyPnl(
  q: pg.ClientBase,
  options: LegacyPnlOptions,
): Promise<LegacyPnlComparison | null> {
  const sources = await legacySources(q);
  const useArchive = (options.archive ?? false) && sources.archiveTable;
  if (sources.columns.length === 0 && !useArchive) return null;
  const live =
    sources.columns.length > 0
      ? `coalesce(${sources.columns.map((c) => `t.${c}`).join(', ')})`
      : 'NULL::double precision';
  const archived = useArchive
    ? `coalesce(${LEGACY_PNL_COLUMNS.map((c) => `a.${c}`).join(', ')})`
    : 'NULL::double precision';
  // float8 as text is its exact shortest form; NaN and the infinities fall outside any finite
  // range, so they count as no value rather than poison the sums.
  const finite = (x: string) => `${x} BETWEEN -1e300 AND 1e300`;
  const { rows } = await q.query<{
    sell_order_id: string;
    symbol: string;
    sell_time: string;
    legacy_pnl: string | null;
    source: 'live' | 'archive' | null;
    fifo_pnl: string;
    difference: string | null;
    legacy_total: string;
    fifo_total: string;
    total_difference: string;
  }>(
    `WITH sells AS (
       SELECT sell_order_id, symbol, min(sell_time) AS sell_time, coalesce(sum(pnl_usd), 0) AS fifo
       FROM fifo_allocations
       WHERE allocation_version = $1 AND sell_time > $2::timestamptz AND sell_time <= $3::timestamptz
       GROUP BY sell_order_id, symbol
     ),
     compared AS (
       SELECT s.*,
              CASE WHEN ${finite(live)} THEN (${live})::text::numeric
                   WHEN ${finite(archived)} THEN (${archived})::text::numeric END AS legacy,
              CASE WHEN ${finite(live)} THEN 'live' WHEN ${finite(archived)} THEN 'archive' END AS source
       FROM sells s
       LEFT JOIN trade_records t ON t.order_id = s.sell_order_id
       ${useArchive ? `LEFT JOIN ${ARCHIVE_TABLE} a ON a.order_id = s.sell_order_id` : ''}
     )
     SELECT sell_order_id, symbol, ${utcText('sell_time')} AS sell_time,
            trim_scale(legacy)::text AS legacy_pnl, source, ${dec('fifo')} AS fifo_pnl,
            trim_scale(fifo - legacy)::text AS difference,
            ${dec('sum(legacy) OVER ()')} AS legacy_total,
            ${dec('sum(fifo) FILTER (WHERE legacy IS NOT NULL) OVER ()')} AS fifo_total,
            ${dec('sum(fifo - legacy) OVER ()')} AS total_difference
     FROM compared
     ORDER BY abs(fifo - legacy) DESC NULLS LAST, sell_time, sell_order_id COLLATE "C"`,
    [options.version, options.start, options.end],
  );
  const compared = rows.filter((r) => r.legacy_pnl !== null);
  return {
    columns: [...sources.columns],
    archive: useArchive,
    rows: compared.map((r) => ({
      sellOrderId: r.sell_order_id,
      symbol: r.symbol,
      sellTime: r.sell_time,
      legacyPnl: r.legacy_pnl!,
      fifoPnl: r.fifo_pnl,
      difference: r.difference!,
      source: r.source!,
    })),
    withoutLegacy: rows.length - compared.length,
    legacyTotal: rows[0]?.legacy_total ?? '0',
    fifoTotal: rows[0]?.fifo_total ?? '0',
    totalDifference: rows[0]?.total_difference ?? '0',
  };
}

export interface ReconcileOptions {
  readonly version: number;
  /** Window length in hours ending at `now`; omit for all time. */
  readonly hours?: number;
  /** @default the current time */
  readonly now?: Date;
  /** How many offenders to list. @default 10 */
  readonly offenders?: number;
}

export interface LegacyPnlReconciliation extends LegacyPnlComparison {
  readonly version: number;
  /** start is null for all time. */
  readonly window: { readonly start: string | null; readonly end: string; readonly hours: number | null };
  /** Sells compared, by where their legacy value came from. */
  readonly fromLive: number;
  readonly fromArchive: number;
  /** Compared sells whose FIFO and legacy figures differ. */
  readonly differing: number;
  /** The compared sells, in sell order: the discrepancy table. */
  readonly table: LegacyPnlRow[];
  /** The largest |difference| first, differing sells only. */
  readonly offenders: LegacyPnlRow[];
  /**
   * Sells in the window with a legacy value but no allocation in this version (not built
   * yet, rejected, or the version is behind): not in the totals.
   */
  readonly legacyWithoutFifo: { readonly count: number; readonly sample: string[] };
}

/** `fifo reconcile`: legacy vs FIFO PnL per sell, live columns first, then the archive. */
export async function reconcileLegacy(
  client: pg.ClientBase,
  options: ReconcileOptions,
): Promise<LegacyPnlReconciliation> {
  const now = options.now ?? new Date();
  if (options.hours !== undefined && !(options.hours > 0)) {
    throw new RangeError(`the window must be positive, got ${options.hours} hours`);
  }
  const end = now.toISOString();
  const start =
    options.hours === undefined ? null : new Date(now.getTime() - options.hours * 3_600_000).toISOString();
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const comparison = (await compareLegacyPnl(client, {
      version: options.version,
      start: start ?? '-infinity',
      end,
      archive: true,
    })) ?? {
      columns: [],
      archive: false,
      rows: [],
      withoutLegacy: 0,
      legacyTotal: '0',
      fifoTotal: '0',
      totalDifference: '0',
    };
    const legacyWithoutFifo = await readLegacyWithoutFifo(client, comparison, options.version, start, end);
    await client.query('COMMIT');
    const differingRows = comparison.rows.filter((r) => !/^-?0(\.0*)?$/.test(r.difference));
    const table = [...comparison.rows].sort(
      (a, b) =>
        (a.sellTime < b.sellTime ? -1 : a.sellTime > b.sellTime ? 1 : 0) ||
        (a.sellOrderId < b.sellOrderId ? -1 : a.sellOrderId > b.sellOrderId ? 1 : 0),
    );
    return {
      ...comparison,
      version: options.version,
      window: { start, end, hours: options.hours ?? null },
      fromLive: comparison.rows.filter((r) => r.source === 'live').length,
      fromArchive: comparison.rows.filter((r) => r.source === 'archive').length,
      differing: differingRows.length,
      table,
      offenders: differingRows.slice(0, options.offenders ?? 10),
      legacyWithoutFifo,
    };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

async function readLegacyWithoutFifo(
  q: pg.ClientBase,
  comparison: LegacyPnlComparison,
  version: number,
  start: string | null,
  end: string,
): Promise<{ count: number; sample: string[] }> {
  const live = comparison.columns.map((c) => `t.${c} IS NOT NULL`);
  const archived = comparison.archive ? LEGACY_PNL_COLUMNS.map((c) => `a.${c} IS NOT NULL`) : [];
  if (live.length + archived.length === 0) return { count: 0, sample: [] };
  const { rows } = await q.query<{ order_id: string; total: string }>(
    `SELECT t.order_id, count(*) OVER ()::text AS total
     FROM trade_records t
     ${comparison.archive ? `LEFT JOIN ${ARCHIVE_TABLE} a ON a.order_id = t.order_id` : ''}
     WHERE lower(btrim(t.side)) = 'sell'
       AND t.order_time > $2::timestamptz AND t.order_time <= $3::timestamptz
       AND (${[...live, ...archived].join(' OR ')})
       AND NOT EXISTS (SELECT 1 FROM fifo_allocations f
                       WHERE f.allocation_version = $1 AND f.sell_order_id = t.order_id)
     ORDER BY t.order_time, t.order_id COLLATE "C"
     LIMIT 10`,
    [version, start ?? '-infinity', end],
  );
  return { count: Number(rows[0]?.total ?? 0), sample: rows.map((r) => r.order_id) };
}
