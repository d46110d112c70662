/**
 * Digests of what a version has stored, per symbol: an md5 over the canonical text of its
 * allocations (and of its lots) in FIFO order. The nightly validation compares them with the
 * same digest of the computed rows and reads a symbol's stored rows only when they differ,
 * so a run with nothing changed moves no stored rows to the client. PostgreSQL computes the
 * digests on its own core while the engine works.
 */
import { createHash, type Hash } from 'node:crypto';
import type pg from 'pg';
import {
  ALLOCATION_COLUMNS,
  type AllocationRow,
  FREE_TEXT_COLUMNS,
  LOT_COLUMNS,
  type LotRow,
} from '../fifo/index.ts';
import { ALLOCATIONS } from '../tables/allocations.ts';
import { LOTS } from '../tables/lots.ts';
import { column, rowColumns, type TableSpec } from '../tables/spec.ts';
import { canonicalColumn } from './sql.ts';

/**
 * The encoding hashed: every value as `<length>:<value>`, NULL as `-`, fields and rows
 * separated. The length makes it unambiguous whatever an id or a note contains, separators
 * included, so two different row sets can never hash alike by their encoding. Lengths count
 * code points on both sides (PostgreSQL's char_length).
 */
const FIELD = '\x1f';
const ROW = '\x1e';
const NULL = '-';

/** A row of the table's engine columns, encoded as `digest` below encodes it. */
function lineSql(table: TableSpec): string {
  const parts = rowColumns(table).map((name) => {
    const value = canonicalColumn(column(table, name));
    return `coalesce(char_length(${value})::text || ':' || ${value}, '-')`;
  });
  return `concat_ws(E'\\x1f', ${parts.join(', ')})`;
}

const ASTRAL = /[\uD800-\uDFFF]/;
/** Code points, as char_length counts them; a string without surrogates has one per unit. */
const codePoints = (value: string): number => (ASTRAL.test(value) ? [...value].length : value.length);

export interface SymbolDigest {
  readonly rows: number;
  readonly md5: string;
}

/** Only these symbols (a partition's); null: every symbol of the version. */
export type SymbolScope = readonly string[] | null;

/** The SQL condition for a scope passed as the query's second parameter. */
export const IN_SCOPE = '($2::varchar[] IS NULL OR symbol = ANY($2::varchar[]))';

/** Per symbol of a version (in scope): the row count and the md5 of its lines in `order`. */
async function digestsOf(
  client: pg.ClientBase,
  table: TableSpec,
  order: string,
  version: number,
  scope: SymbolScope,
): Promise<Map<string, SymbolDigest>> {
  const { rows } = await client.query<{ symbol: string; n: number; md5: string }>(
    `SELECT symbol, count(*)::int AS n, md5(string_agg(${lineSql(table)}, E'\\x1e' ORDER BY ${order})) AS md5
     FROM ${table.name} WHERE allocation_version = $1 AND ${IN_SCOPE} GROUP BY symbol`,
    [version, scope],
  );
  return new Map(rows.map((r) => [r.symbol, { rows: r.n, md5: r.md5 }]));
}

export function storedAllocationDigests(
  client: pg.ClientBase,
  version: number,
  scope: SymbolScope = null,
): Promise<Map<string, SymbolDigest>> {
  const order = 'sell_time, sell_order_id COLLATE "C", buy_time NULLS LAST, buy_order_id COLLATE "C"';
  return digestsOf(client, ALLOCATIONS, order, version, scope);
}

export function storedLotDigests(
  client: pg.ClientBase,
  version: number,
  scope: SymbolScope = null,
): Promise<Map<string, SymbolDigest>> {
  return digestsOf(client, LOTS, 'buy_time, buy_order_id COLLATE "C"', version, scope);
}

function digest<T>(rows: readonly T[], columns: readonly (keyof T)[]): SymbolDigest {
  const hash: Hash = createHash('md5');
  const free = columns.map((c) => FREE_TEXT_COLUMNS.has(String(c)));
  // Hashed in chunks of lines: one update per row costs more than the hashing itself.
  let chunk = '';
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    let line = i > 0 ? ROW : '';
    for (let c = 0; c < columns.length; c++) {
      if (c > 0) line += FIELD;
      const value = row[columns[c]!] as string | null;
      line += value === null ? NULL : `${free[c] ? codePoints(value) : value.length}:${value}`;
    }
    chunk += line;
    if (chunk.length > 1 << 16) {
      hash.update(chunk);
      chunk = '';
    }
  }
  hash.update(chunk);
  return { rows: rows.length, md5: hash.digest('hex') };
}

/** The digest of computed allocations, in the engine's order (which is FIFO order). */
export const allocationDigest = (rows: readonly AllocationRow[]): SymbolDigest =>
  digest(rows, ALLOCATION_COLUMNS);

/** The digest of computed lots; they must be in buy order. */
export const lotDigest = (rows: readonly LotRow[]): SymbolDigest => digest(rows, LOT_COLUMNS);

export const sameDigest = (a: SymbolDigest | undefined, b: SymbolDigest): boolean =>
  a !== undefined && a.rows === b.rows && a.md5 === b.md5;
