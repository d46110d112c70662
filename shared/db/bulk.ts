/**
 * Bulk writes: COPY FROM STDIN (pg-copy-streams) on a real server, batched
 * INSERT ... SELECT FROM unnest(...) where COPY is unavailable (PGlite's socket).
 */
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { isFreeText, type TableSpec, writtenColumns } from '../tables/spec.ts';

export interface BulkTarget {
  readonly table: string;
  readonly columns: readonly string[];
  /** SQL type of each column, for the unnest path. */
  readonly types: readonly string[];
  /** Whether each column is free text, which COPY must escape. */
  readonly freeText: readonly boolean[];
}

/** What a bulk write of a table fills (the row's columns, then the run's), from its spec. */
export function bulkTarget(table: TableSpec): BulkTarget {
  const columns = writtenColumns(table);
  return {
    table: table.name,
    columns: columns.map((c) => c.name),
    types: columns.map((c) => c.type),
    freeText: columns.map(isFreeText),
  };
}

const UNNEST_BATCH = 5_000;

const NEEDS_ESCAPE = /[\\\t\n\r]/;

function copyText(value: string): string {
  // Numbers, times and most ids need no escaping: test before building a new string.
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}

/** Inserts rows of text values (null for NULL) into `target`. */
export async function bulkInsert(
  client: pg.ClientBase,
  supportsCopy: boolean,
  target: BulkTarget,
  rows: readonly (readonly (string | null)[])[],
): Promise<void> {
  if (rows.length === 0) return;
  if (supportsCopy) {
    const sql = `COPY ${target.table} (${target.columns.join(', ')}) FROM STDIN`;
    const stream = client.query(copyFrom(sql));
    // Numbers, times and uuids need no escaping; every free-text column is checked.
    const escaped = target.freeText;
    const last = target.columns.length - 1;
    async function* lines() {
      let chunk = '';
      for (const row of rows) {
        for (let i = 0; i <= last; i++) {
          const value = row[i] ?? null;
          chunk += value === null ? '\\N' : escaped[i] ? copyText(value) : value;
          chunk += i === last ? '\n' : '\t';
        }
        if (chunk.length > 1 << 16) {
          yield chunk;
          chunk = '';
        }
      }
      if (chunk) yield chunk;
    }
    await pipeline(lines, stream);
    return;
  }
  const params = target.columns.map((_, i) => `$${i + 1}::text[]`).join(', ');
  const casts = target.columns.map((_, i) => `u.c${i}::${target.types[i]}`).join(', ');
  const aliases = target.columns.map((_, i) => `c${i}`).join(', ');
  const sql = `INSERT INTO ${target.table} (${target.columns.join(', ')})
    SELECT ${casts} FROM unnest(${params}) AS u(${aliases})`;
  for (let start = 0; start < rows.length; start += UNNEST_BATCH) {
    const batch = rows.slice(start, start + UNNEST_BATCH);
    const columns = target.columns.map((_, i) => batch.map((row) => row[i] ?? null));
    await client.query(sql, columns);
  }
}
