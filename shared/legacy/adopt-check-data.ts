/**
 * The rows `fifo adopt --check` reads: allocation versions, legacy values, log statuses the new
 * check would refuse, duplicate allocation keys. Each read names only columns the catalog says
 * exist and runs under a savepoint, so a table of an unexpected shape (a missing column, a type
 * an aggregate does not take) gives a warning, never an error that ends the check.
 */
import type pg from 'pg';
import { utcText } from '../db/sql.ts';
import type { Catalog } from './adopt-check-catalog.ts';
import { type Problem, problem } from './adopt-check-findings.ts';
import { LEGACY_ARCHIVE_COLUMNS, STATUS_CHECK } from './expected-schema.ts';

type Q = pg.ClientBase;

export interface VersionFinding {
  readonly version: number;
  readonly allocations: number;
  /** null when fifo_allocations has no sell_order_id. */
  readonly sells: number | null;
  readonly unmatchedRows: number | null;
  readonly firstSell: string | null;
  readonly lastSell: string | null;
  readonly lots: number;
  readonly openLots: number;
  readonly pendingChanges: number;
  /** In fifo_versions: change capture records changes for it. */
  readonly registered: boolean;
  readonly lastCompletedFullRun: string | null;
}

export interface LegacyColumnFinding {
  readonly column: string;
  readonly present: boolean;
  readonly type: string | null;
  /** Rows with a value (NOT NULL). */
  readonly values: number;
}

export interface LegacyValues {
  readonly columns: LegacyColumnFinding[];
  readonly tradesWithValues: number;
  readonly archiveExists: boolean;
  readonly archivedRows: number;
}

const count = (value: string | number | null | undefined) => Number(value ?? 0);

/**
 * Runs a read under a savepoint: if it fails, the transaction goes on, the failure becomes a
 * warning naming what could not be read, and `fallback` is returned.
 */
export async function guarded<T>(
  q: Q,
  problems: Problem[],
  what: { label: string; table: string },
  fallback: T,
  read: () => Promise<T>,
): Promise<T> {
  await q.query('SAVEPOINT fifo_adopt_check_read');
  try {
    const result = await read();
    await q.query('RELEASE SAVEPOINT fifo_adopt_check_read');
    return result;
  } catch (error) {
    await q.query('ROLLBACK TO SAVEPOINT fifo_adopt_check_read');
    problems.push(
      problem(
        'warning',
        `${what.table}: could not read ${what.label} (${(error as Error).message}); the report leaves it out`,
        what.table,
      ),
    );
    return fallback;
  }
}

/** True when the table exists with every one of the columns. */
const has = (catalog: Catalog, table: string, ...columns: string[]) => {
  const live = catalog.tables.get(table);
  return live !== undefined && live.kind !== null && columns.every((c) => live.columns.has(c));
};

export async function readVersions(q: Q, catalog: Catalog, problems: Problem[]): Promise<VersionFinding[]> {
  if (!has(catalog, 'fifo_allocations', 'allocation_version')) return [];
  const byVersion = new Map<number, VersionFinding>();
  const entry = (version: number): VersionFinding =>
    byVersion.get(version) ?? {
      version,
      allocations: 0,
      sells: null,
      unmatchedRows: null,
      firstSell: null,
      lastSell: null,
      lots: 0,
      openLots: 0,
      pendingChanges: 0,
      registered: false,
      lastCompletedFullRun: null,
    };
  /** Versions are read as text: a version column of any type cannot confuse the map. */
  const set = (v: string, values: Partial<VersionFinding>) => {
    const version = Number(v);
    if (Number.isSafeInteger(version)) byVersion.set(version, { ...entry(version), ...values });
  };
  const a = (column: string) => has(catalog, 'fifo_allocations', column);
  await guarded(
    q,
    problems,
    { label: 'the allocation versions', table: 'fifo_allocations' },
    null,
    async () => {
      const { rows } = await q.query<{
        v: string;
        rows: string;
        sells: string | null;
        unmatched: string | null;
        first: string | null;
        last: string | null;
      }>(
        `SELECT allocation_version::text AS v, count(*)::text AS rows,
              ${a('sell_order_id') ? 'count(DISTINCT sell_order_id)::text' : 'NULL'} AS sells,
              ${a('buy_order_id') ? 'count(*) FILTER (WHERE buy_order_id IS NULL)::text' : 'NULL'} AS unmatched,
              ${a('sell_time') ? utcText('min(sell_time)') : 'NULL'} AS first,
              ${a('sell_time') ? utcText('max(sell_time)') : 'NULL'} AS last
       FROM fifo_allocations WHERE allocation_version IS NOT NULL
       GROUP BY allocation_version ORDER BY allocation_version`,
      );
      for (const r of rows) {
        set(r.v, {
          allocations: count(r.rows),
          sells: r.sells === null ? null : count(r.sells),
          unmatchedRows: r.unmatched === null ? null : count(r.unmatched),
          firstSell: r.first,
          lastSell: r.last,
        });
      }
      return null;
    },
  );
  if (has(catalog, 'fifo_lots', 'allocation_version', 'remaining_size')) {
    await guarded(q, problems, { label: 'the lots per version', table: 'fifo_lots' }, null, async () => {
      const { rows } = await q.query<{ v: string; lots: string; open: string }>(
        `SELECT allocation_version::text AS v, count(*)::text AS lots,
                count(*) FILTER (WHERE remaining_size > 0)::text AS open
         FROM fifo_lots WHERE allocation_version IS NOT NULL GROUP BY allocation_version`,
      );
      for (const r of rows) set(r.v, { lots: count(r.lots), openLots: count(r.open) });
      return null;
    });
  }
  if (has(catalog, 'fifo_trade_changes', 'allocation_version')) {
    await guarded(
      q,
      problems,
      { label: 'the pending changes', table: 'fifo_trade_changes' },
      null,
      async () => {
        const { rows } = await q.query<{ v: string; n: string }>(
          `SELECT allocation_version::text AS v, count(*)::text AS n FROM fifo_trade_changes
         WHERE allocation_version IS NOT NULL GROUP BY allocation_version`,
        );
        for (const r of rows) set(r.v, { pendingChanges: count(r.n) });
        return null;
      },
    );
  }
  if (has(catalog, 'fifo_versions', 'allocation_version')) {
    await guarded(
      q,
      problems,
      { label: 'the registered versions', table: 'fifo_versions' },
      null,
      async () => {
        const { rows } = await q.query<{ v: string }>(
          'SELECT allocation_version::text AS v FROM fifo_versions WHERE allocation_version IS NOT NULL',
        );
        for (const r of rows) set(r.v, { registered: true });
        return null;
      },
    );
  }
  const log = ['allocation_version', 'status', 'computation_mode', 'computation_start', 'computation_end'];
  if (has(catalog, 'fifo_computation_log', ...log)) {
    await guarded(
      q,
      problems,
      { label: 'the last full runs', table: 'fifo_computation_log' },
      null,
      async () => {
        const { rows } = await q.query<{ v: string; at: string | null }>(
          `SELECT allocation_version::text AS v, ${utcText('max(coalesce(computation_end, computation_start))')} AS at
         FROM fifo_computation_log
         WHERE status::text = 'completed' AND computation_mode::text = 'full' AND allocation_version IS NOT NULL
         GROUP BY allocation_version`,
        );
        for (const r of rows) {
          if (byVersion.has(Number(r.v))) set(r.v, { lastCompletedFullRun: r.at });
        }
        return null;
      },
    );
  }
  return [...byVersion.values()].sort((x, y) => x.version - y.version);
}

export async function readLegacyValues(q: Q, catalog: Catalog, problems: Problem[]): Promise<LegacyValues> {
  const trades = catalog.tables.get('trade_records')?.columns ?? new Map();
  const present = LEGACY_ARCHIVE_COLUMNS.filter((c) => trades.has(c));
  let values: Record<string, string> = {};
  if (present.length > 0) {
    // Identifiers from the fixed list above only.
    values = await guarded(
      q,
      problems,
      { label: 'the legacy PnL values', table: 'trade_records' },
      {},
      async () => {
        const { rows } = await q.query<Record<string, string>>(
          `SELECT count(*) FILTER (WHERE ${present.map((c) => `${c} IS NOT NULL`).join(' OR ')})::text AS any_value,
                ${present.map((c) => `count(${c})::text AS ${c}`).join(', ')}
         FROM trade_records`,
        );
        return rows[0] ?? {};
      },
    );
  }
  const archiveExists = (catalog.tables.get('fifo_legacy_pnl_archive')?.kind ?? null) !== null;
  const archivedRows = archiveExists
    ? await guarded(
        q,
        problems,
        { label: 'the archived rows', table: 'fifo_legacy_pnl_archive' },
        0,
        async () =>
          count(
            (await q.query<{ n: string }>('SELECT count(*)::text AS n FROM fifo_legacy_pnl_archive')).rows[0]
              ?.n,
          ),
      )
    : 0;
  return {
    columns: LEGACY_ARCHIVE_COLUMNS.map((c) => ({
      column: c,
      present: trades.has(c),
      type: trades.get(c)?.type ?? null,
      values: count(values[c]),
    })),
    tradesWithValues: count(values.any_value),
    archiveExists,
    archivedRows,
  };
}

/** Statuses in the log that the check 0002 adds would refuse, with their row counts. */
export async function refusedStatuses(
  q: Q,
  catalog: Catalog,
  problems: Problem[],
): Promise<{ status: string; n: string }[]> {
  if (!has(catalog, STATUS_CHECK.table, 'status')) return [];
  return guarded(
    q,
    problems,
    { label: 'the statuses of the log', table: STATUS_CHECK.table },
    [],
    async () => {
      const { rows } = await q.query<{ status: string; n: string }>(
        `SELECT status::text AS status, count(*)::text AS n FROM fifo_computation_log
       WHERE status IS NOT NULL AND status::text <> ALL ($1::text[]) GROUP BY 1 ORDER BY 1`,
        [[...STATUS_CHECK.statuses]],
      );
      return rows;
    },
  );
}

/** Keys (sell, lot, version) that more than one allocation holds: the unique index would fail. */
export async function duplicateAllocationKeys(q: Q, catalog: Catalog, problems: Problem[]): Promise<number> {
  if (!has(catalog, 'fifo_allocations', 'sell_order_id', 'buy_order_id', 'allocation_version')) return 0;
  return guarded(q, problems, { label: 'the allocation keys', table: 'fifo_allocations' }, 0, async () => {
    const { rows } = await q.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM (
         SELECT 1 FROM fifo_allocations GROUP BY sell_order_id, coalesce(buy_order_id::text, ''), allocation_version
         HAVING count(*) > 1) d`,
    );
    return count(rows[0]?.n);
  });
}
