/**
 * `fifo legacy archive` and `fifo legacy restore`: move the bot's deprecated PnL columns of
 * trade_records into fifo_legacy_pnl_archive and back, losing nothing.
 *
 * Archive, in one transaction and one statement: the rows with a legacy value are locked,
 * their values are written to the archive (a value already archived is never replaced: a
 * NULL never overwrites a value, and a live value that differs from the archived one is left
 * live and reported as a conflict), and only the rows archived are set NULL. Running it again
 * finds nothing to move.
 *
 * Restore, in one transaction and one statement: an archived value is put back where the live
 * column is NULL. A live value is never overwritten; one that differs from the archived value
 * is reported as a conflict. The archive rows stay (restored_at is stamped): a later archive
 * finds equal values and sets the columns NULL again.
 *
 * float8 values are copied float8 to float8, so they round-trip bit for bit (-0, 5e-324,
 * NaN, the infinities included); values are compared by float8send(), their exact bytes.
 *
 * None of the columns is one change capture reads, so neither command records a change.
 */
import type pg from 'pg';
import { LEGACY_ARCHIVE_COLUMNS, type LegacyArchiveColumn } from './expected-schema.ts';

export const ARCHIVE_TABLE = 'fifo_legacy_pnl_archive';

export class LegacyError extends Error {
  override name = 'LegacyError';
}

export interface ArchiveResult {
  /** The legacy columns trade_records has, which were archived. */
  readonly columns: LegacyArchiveColumn[];
  /** The legacy columns trade_records no longer has. */
  readonly absentColumns: LegacyArchiveColumn[];
  /** Archive rows written (new, or merged into an earlier archive of the same trade). */
  readonly archivedRows: number;
  /** trade_records rows whose legacy columns were set NULL. */
  readonly clearedRows: number;
  /** Values moved, per column. */
  readonly values: Partial<Record<LegacyArchiveColumn, number>>;
  /** Rows left as they were: a live value differs from the value archived earlier. */
  readonly conflicts: number;
  /** Up to 10 of their order_ids. */
  readonly conflictSample: string[];
  /** Rows in the archive after the run. */
  readonly archiveRows: number;
}

export interface RestoreResult {
  readonly columns: LegacyArchiveColumn[];
  readonly absentColumns: LegacyArchiveColumn[];
  /** trade_records rows that got at least one value back. */
  readonly restoredRows: number;
  /** Values put back, per column. */
  readonly values: Partial<Record<LegacyArchiveColumn, number>>;
  /** Rows where a live value differs from the archived one (the live value was kept). */
  readonly conflicts: number;
  readonly conflictSample: string[];
  /** Archive rows whose trade no longer exists (deleted since): kept in the archive. */
  readonly orphans: number;
  /** Archived values of columns trade_records no longer has, per column: kept in the archive. */
  readonly notRestorable: Partial<Record<LegacyArchiveColumn, number>>;
  readonly archiveRows: number;
}

const FLOAT_TYPES = new Set(['double precision']);
const TEXT_TYPES = /^(character varying(\(\d+\))?|text)$/;

/** The legacy columns trade_records has; refuses types the archive cannot hold exactly. */
async function legacyColumns(client: pg.ClientBase): Promise<{
  present: LegacyArchiveColumn[];
  absent: LegacyArchiveColumn[];
}> {
  const { rows: table } = await client.query<{ archive: boolean; trades: boolean }>(
    `SELECT to_regclass($1) IS NOT NULL AS archive, to_regclass('trade_records') IS NOT NULL AS trades`,
    [ARCHIVE_TABLE],
  );
  if (!table[0]?.trades) throw new LegacyError('this database has no trade_records table');
  if (!table[0]?.archive) {
    throw new LegacyError(`${ARCHIVE_TABLE} does not exist: run "fifo migrate" first (migration 0004)`);
  }
  const { rows } = await client.query<{ name: string; type: string }>(
    `SELECT attname::text AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
     WHERE attrelid = 'trade_records'::regclass AND attnum > 0 AND NOT attisdropped
       AND attname = ANY ($1::name[])`,
    [[...LEGACY_ARCHIVE_COLUMNS]],
  );
  const types = new Map(rows.map((r) => [r.name, r.type]));
  const wrong = LEGACY_ARCHIVE_COLUMNS.filter((c) => {
    const type = types.get(c);
    if (type === undefined) return false;
    return c === 'parent_id' ? !TEXT_TYPES.test(type) : !FLOAT_TYPES.has(type);
  });
  if (wrong.length > 0) {
    throw new LegacyError(
      `cannot archive ${wrong.map((c) => `trade_records.${c} (${types.get(c)})`).join(', ')}: the archive keeps ` +
        'double precision (parent_id: varchar) to round-trip values exactly; nothing was changed',
    );
  }
  return {
    present: LEGACY_ARCHIVE_COLUMNS.filter((c) => types.has(c)),
    absent: LEGACY_ARCHIVE_COLUMNS.filter((c) => !types.has(c)),
  };
}

/** SQL: the live and archived values of a column differ (exact bytes for float8). */
const differs = (c: LegacyArchiveColumn) =>
  c === 'parent_id'
    ? `t.${c} IS DISTINCT FROM a.${c}`
    : `float8send(t.${c}) IS DISTINCT FROM float8send(a.${c})`;
const conflictSql = (columns: readonly LegacyArchiveColumn[]) =>
  columns.map((c) => `(t.${c} IS NOT NULL AND a.${c} IS NOT NULL AND ${differs(c)})`).join(' OR ');

async function archiveRowCount(client: pg.ClientBase): Promise<number> {
  const { rows } = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${ARCHIVE_TABLE}`);
  return Number(rows[0]?.n ?? 0);
}

async function inTransaction<T>(client: pg.ClientBase, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** Copies the legacy values into the archive, then sets them NULL; one transaction. */
export async function archiveLegacy(client: pg.ClientBase): Promise<ArchiveResult> {
  return inTransaction(client, async () => {
    const { present, absent } = await legacyColumns(client);
    if (present.length === 0) {
      return {
        columns: [],
        absentColumns: absent,
        archivedRows: 0,
        clearedRows: 0,
        values: {},
        conflicts: 0,
        conflictSample: [],
        archiveRows: await archiveRowCount(client),
      };
    }
    // Column names come from LEGACY_ARCHIVE_COLUMNS only, never from data.
    const list = present.join(', ');
    const { rows } = await client.query<Record<string, string | string[]>>(
      `WITH src AS MATERIALIZED (
         SELECT t.order_id, ${present.map((c) => `t.${c}`).join(', ')},
                (a.order_id IS NOT NULL AND (${conflictSql(present)})) AS conflict
         FROM trade_records t
         LEFT JOIN ${ARCHIVE_TABLE} a ON a.order_id = t.order_id
         WHERE ${present.map((c) => `t.${c} IS NOT NULL`).join(' OR ')}
         FOR UPDATE OF t
       ), archived AS (
         INSERT INTO ${ARCHIVE_TABLE} AS a (order_id, ${list})
         SELECT order_id, ${list} FROM src WHERE NOT conflict
         ON CONFLICT (order_id) DO UPDATE SET
           ${present.map((c) => `${c} = coalesce(a.${c}, EXCLUDED.${c})`).join(', ')}, restored_at = NULL
         RETURNING a.order_id
       ), cleared AS (
         UPDATE trade_records t SET ${present.map((c) => `${c} = NULL`).join(', ')}
         FROM src WHERE t.order_id = src.order_id AND NOT src.conflict
         RETURNING t.order_id
       )
       SELECT (SELECT count(*) FROM archived)::text AS archived,
              (SELECT count(*) FROM cleared)::text AS cleared,
              ${present.map((c) => `(SELECT count(${c}) FROM src WHERE NOT conflict)::text AS v_${c}`).join(', ')},
              (SELECT count(*) FROM src WHERE conflict)::text AS conflicts,
              (SELECT coalesce(array_agg(order_id::text ORDER BY order_id), '{}') FROM
                 (SELECT order_id FROM src WHERE conflict ORDER BY order_id LIMIT 10) x) AS conflict_sample`,
    );
    const r = rows[0]!;
    return {
      columns: present,
      absentColumns: absent,
      archivedRows: Number(r.archived),
      clearedRows: Number(r.cleared),
      values: Object.fromEntries(present.map((c) => [c, Number(r[`v_${c}`])])),
      conflicts: Number(r.conflicts),
      conflictSample: r.conflict_sample as string[],
      archiveRows: await archiveRowCount(client),
    };
  });
}

/** Puts archived values back where the live column is NULL; one transaction. */
export async function restoreLegacy(client: pg.ClientBase): Promise<RestoreResult> {
  return inTransaction(client, async () => {
    const { present, absent } = await legacyColumns(client);
    const { rows: counts } = await client.query<Record<string, string>>(
      `SELECT (SELECT count(*) FROM ${ARCHIVE_TABLE} a
               WHERE NOT EXISTS (SELECT 1 FROM trade_records t WHERE t.order_id = a.order_id))::text AS orphans
              ${absent.map((c) => `, (SELECT count(${c}) FROM ${ARCHIVE_TABLE})::text AS lost_${c}`).join('')}`,
    );
    const notRestorable = Object.fromEntries(
      absent.map((c) => [c, Number(counts[0]![`lost_${c}`])]).filter(([, n]) => (n as number) > 0),
    );
    const base = {
      columns: present,
      absentColumns: absent,
      orphans: Number(counts[0]!.orphans),
      notRestorable,
    };
    if (present.length === 0) {
      return {
        ...base,
        restoredRows: 0,
        values: {},
        conflicts: 0,
        conflictSample: [],
        archiveRows: await archiveRowCount(client),
      };
    }
    const { rows } = await client.query<Record<string, string | string[]>>(
      `WITH src AS MATERIALIZED (
         SELECT t.order_id,
                ${present.map((c) => `(t.${c} IS NULL AND a.${c} IS NOT NULL) AS r_${c}`).join(', ')},
                (${conflictSql(present)}) AS conflict
         FROM ${ARCHIVE_TABLE} a
         JOIN trade_records t ON t.order_id = a.order_id
         FOR UPDATE OF t
       ), restored AS (
         UPDATE trade_records t SET ${present.map((c) => `${c} = coalesce(t.${c}, a.${c})`).join(', ')}
         FROM ${ARCHIVE_TABLE} a, src
         WHERE a.order_id = t.order_id AND src.order_id = t.order_id
           AND (${present.map((c) => `src.r_${c}`).join(' OR ')})
         RETURNING t.order_id
       ), stamped AS (
         UPDATE ${ARCHIVE_TABLE} a SET restored_at = now() FROM restored r WHERE a.order_id = r.order_id
         RETURNING a.order_id
       )
       SELECT (SELECT count(*) FROM restored)::text AS restored,
              (SELECT count(*) FROM stamped)::text AS stamped,
              ${present.map((c) => `(SELECT count(*) FROM src WHERE r_${c})::text AS v_${c}`).join(', ')},
              (SELECT count(*) FROM src WHERE conflict)::text AS conflicts,
              (SELECT coalesce(array_agg(order_id::text ORDER BY order_id), '{}') FROM
                 (SELECT order_id FROM src WHERE conflict ORDER BY order_id LIMIT 10) x) AS conflict_sample`,
    );
    const r = rows[0]!;
    return {
      ...base,
      restoredRows: Number(r.restored),
      values: Object.fromEntries(present.map((c) => [c, Number(r[`v_${c}`])])),
      conflicts: Number(r.conflicts),
      conflictSample: r.conflict_sample as string[],
      archiveRows: await archiveRowCount(client),
    };
  });
}
