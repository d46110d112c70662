/**
 * The live shape of the tables `fifo adopt --check` compares: columns with their base types,
 * nullability, defaults and identity, CHECK constraints, foreign keys and indexes. Catalog
 * queries only, by table name (to_regclass): whatever the tables look like, nothing here reads
 * a user column, so no shape can make it fail.
 */
import type pg from 'pg';

type Q = pg.ClientBase;

export interface LiveColumn {
  readonly name: string;
  /** As format_type() spells it, e.g. `numeric(20,8)`, `character varying[]`. */
  readonly type: string;
  readonly notNull: boolean;
  /** pg_get_expr() of the default, e.g. `now()`, `nextval('x_id_seq'::regclass)`, `false`. */
  readonly defaultSql: string | null;
  /** 'a' GENERATED ALWAYS AS IDENTITY, 'd' BY DEFAULT, '' none. */
  readonly identity: string;
  /** 's' GENERATED ALWAYS AS (...) STORED, '' none. */
  readonly generated: string;
  /** The base type's pg_type.typname (through a domain): `numeric`, `varchar`, `timestamptz`, `_varchar`. */
  readonly base: string;
  /** pg_type.typcategory of the base type: N numeric, S string, D date/time, A array, ... */
  readonly category: string;
  /** The type modifier (the domain's, for a domain): -1 when none. */
  readonly typmod: number;
  /** For an array: the element type's typname and category. */
  readonly element: string | null;
  readonly elementCategory: string | null;
  /** The domain's name, when the column's type is a domain. */
  readonly domain: string | null;
}

export interface LiveTable {
  readonly name: string;
  /** pg_class.relkind: r table, p partitioned, v view, ...; null when it does not exist. */
  readonly kind: string | null;
  readonly columns: ReadonlyMap<string, LiveColumn>;
}

export interface LiveCheck {
  readonly name: string;
  readonly table: string;
  /** pg_get_constraintdef(), e.g. `CHECK ((net_proceeds_usd >= (0)::numeric))`. */
  readonly definition: string;
  readonly columns: readonly string[];
}

/** A foreign key from one of the tables, or from another table to one of them. */
export interface LiveForeignKey {
  readonly name: string;
  readonly table: string;
  readonly columns: readonly string[];
  readonly refTable: string | null;
  readonly definition: string;
  /** pg_constraint.confdeltype: a, r, c, n, d. */
  readonly onDelete: string;
}

export interface LiveIndex {
  readonly name: string;
  readonly table: string;
  readonly definition: string;
  readonly unique: boolean;
  readonly primary: boolean;
  /** Has a WHERE clause. */
  readonly partial: boolean;
  /** Each key element as pg_get_indexdef(oid, k, true) gives it: a column name or an expression. */
  readonly keys: readonly string[];
}

export interface Catalog {
  readonly tables: ReadonlyMap<string, LiveTable>;
  /** The CHECK constraints of the tables. */
  readonly checks: readonly LiveCheck[];
  /** Foreign keys from the tables, and from other tables to them. */
  readonly foreignKeys: readonly LiveForeignKey[];
  readonly indexes: readonly LiveIndex[];
}

export async function relationKind(q: Q, name: string): Promise<string | null> {
  const { rows } = await q.query<{ kind: string | null }>(
    'SELECT (SELECT relkind::text FROM pg_class WHERE oid = to_regclass($1)) AS kind',
    [name],
  );
  return rows[0]?.kind ?? null;
}

async function columnsOf(q: Q, table: string): Promise<Map<string, LiveColumn>> {
  const { rows } = await q.query<{
    name: string;
    type: string;
    not_null: boolean;
    default_sql: string | null;
    identity: string;
    generated: string;
    base: string;
    category: string;
    typmod: number;
    element: string | null;
    element_category: string | null;
    domain: string | null;
  }>(
    `SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
            pg_get_expr(d.adbin, d.adrelid) AS default_sql, a.attidentity::text AS identity,
            a.attgenerated::text AS generated, b.typname::text AS base, b.typcategory::text AS category,
            CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END AS typmod,
            e.typname::text AS element, e.typcategory::text AS element_category,
            CASE WHEN t.typtype = 'd' THEN t.typname::text END AS domain
     FROM pg_attribute a
     JOIN pg_type t ON t.oid = a.atttypid
     JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
     LEFT JOIN pg_type e ON e.oid = b.typelem AND b.typcategory = 'A'
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY a.attnum`,
    [table],
  );
  return new Map(
    rows.map((r) => [
      r.name,
      {
        name: r.name,
        type: r.type,
        notNull: r.not_null,
        defaultSql: r.default_sql,
        identity: r.identity,
        generated: r.generated,
        base: r.base,
        category: r.category,
        typmod: Number(r.typmod),
        element: r.element,
        elementCategory: r.element_category,
        domain: r.domain,
      },
    ]),
  );
}

/** Reads the shape of `tables` (missing ones included, with kind null and no columns). */
export async function readCatalog(q: Q, tables: readonly string[]): Promise<Catalog> {
  const live = new Map<string, LiveTable>();
  for (const name of tables) {
    const kind = await relationKind(q, name);
    live.set(name, { name, kind, columns: kind === null ? new Map() : await columnsOf(q, name) });
  }
  const { rows: constraints } = await q.query<{
    name: string;
    type: string;
    table_name: string;
    definition: string;
    on_delete: string;
    ref_table: string | null;
    columns: string[];
  }>(
    `SELECT con.conname::text AS name, con.contype::text AS type, rel.relname::text AS table_name,
            pg_get_constraintdef(con.oid) AS definition, con.confdeltype::text AS on_delete,
            ref.relname::text AS ref_table,
            coalesce((SELECT array_agg(a.attname::text ORDER BY k.n)
                      FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, n)
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum), '{}') AS columns
     FROM pg_constraint con
     JOIN pg_class rel ON rel.oid = con.conrelid
     LEFT JOIN pg_class ref ON ref.oid = con.confrelid
     WHERE con.contype IN ('f', 'c')
       AND (con.conrelid IN (SELECT to_regclass(n) FROM unnest($1::text[]) AS n)
            OR (con.contype = 'f' AND con.confrelid IN (SELECT to_regclass(n) FROM unnest($1::text[]) AS n)))
     ORDER BY rel.relname, con.conname`,
    [tables],
  );
  const { rows: indexes } = await q.query<{
    name: string;
    table_name: string;
    definition: string;
    unique: boolean;
    primary: boolean;
    partial: boolean;
    keys: string[];
  }>(
    `SELECT c.relname::text AS name, t.relname::text AS table_name, pg_get_indexdef(i.indexrelid) AS definition,
            i.indisunique AS unique, i.indisprimary AS primary, i.indpred IS NOT NULL AS partial,
            ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
                  FROM generate_series(1, i.indnkeyatts) AS k ORDER BY k) AS keys
     FROM pg_index i
     JOIN pg_class c ON c.oid = i.indexrelid
     JOIN pg_class t ON t.oid = i.indrelid
     WHERE i.indrelid IN (SELECT to_regclass(n) FROM unnest($1::text[]) AS n)
     ORDER BY t.relname, c.relname`,
    [tables],
  );
  return {
    tables: live,
    checks: constraints
      .filter((c) => c.type === 'c')
      .map((c) => ({ name: c.name, table: c.table_name, definition: c.definition, columns: c.columns })),
    foreignKeys: constraints
      .filter((c) => c.type === 'f')
      .map((c) => ({
        name: c.name,
        table: c.table_name,
        columns: c.columns,
        refTable: c.ref_table,
        definition: c.definition,
        onDelete: c.on_delete,
      })),
    indexes: indexes.map((i) => ({
      name: i.name,
      table: i.table_name,
      definition: i.definition,
      unique: i.unique,
      primary: i.primary,
      partial: i.partial,
      keys: i.keys,
    })),
  };
}
