/**
 * The report's optional inputs, found in the catalog before any query touches them: the price
 * table (REPORT_PRICE_TABLE), `cash_transactions`, and trade_records' `trigger` and `source`.
 * Each may be missing, unreadable by the report's role, or shaped differently on an operator's
 * database. A section whose input is unusable says what it needs (`needs`) instead of failing.
 *
 * The queries over these inputs run under a savepoint (`attempt`): a value the catalog could
 * not rule out (a text price that is no number) ends in the section's `needs`, never in the
 * report's failure.
 */
import type pg from 'pg';
import { minus } from './exact.ts';

type Queryable = pg.ClientBase;

interface Column {
  /** pg_type.typname, e.g. 'jsonb', 'float8', 'timestamptz'. */
  readonly type: string;
  /** pg_type.typcategory: N numeric, S string, D date/time, U user (json, jsonb), ... */
  readonly category: string;
}

export interface Relation {
  /** The name as PostgreSQL prints it (schema-qualified when off the search path), quoted if needed. */
  readonly sql: string;
  readonly readable: boolean;
  readonly columns: ReadonlyMap<string, Column>;
}

/** A table or view by name, resolved as SQL would (search path, folding); null if none. */
export async function findRelation(q: Queryable, name: string): Promise<Relation | null> {
  const { rows } = await q.query<{
    sql: string;
    readable: boolean;
    columns: Record<string, Column> | null;
  }>(
    `SELECT c.oid::regclass::text AS sql, has_table_privilege(c.oid, 'SELECT') AS readable,
            json_object_agg(a.attname, json_build_object('type', t.typname, 'category', t.typcategory))
              FILTER (WHERE a.attname IS NOT NULL) AS columns
     FROM pg_class c
     LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     LEFT JOIN pg_type t ON t.oid = a.atttypid
     WHERE c.oid = to_regclass($1)
     GROUP BY c.oid`,
    [name],
  );
  const row = rows[0];
  if (!row) return null;
  return { sql: row.sql, readable: row.readable, columns: new Map(Object.entries(row.columns ?? {})) };
}

/** A usable input, or what the section needs instead. */
export type Usable<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly needs: string };

const needs = (text: string): { ok: false; needs: string } => ({ ok: false, needs: text });

/** Runs an optional input's query under a savepoint: its failure is a result, not the report's. */
export async function attempt<T>(q: Queryable, run: () => Promise<T>): Promise<Usable<T>> {
  await q.query('SAVEPOINT report_optional_input');
  try {
    const value = await run();
    await q.query('RELEASE SAVEPOINT report_optional_input');
    return { ok: true, value };
  } catch (error) {
    await q.query('ROLLBACK TO SAVEPOINT report_optional_input');
    return needs(`the query failed: ${(error as Error).message}`);
  }
}

const quote = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

/** SQL that yields the entry or exit strategy name of a trade row aliased `t`, NULL when none. */
export type NameExpression = (alias: string) => string;

export interface TradeInputs {
  /** `trigger->>'trigger'` of jsonb (or json), a jsonb string as is, or a text column's value. */
  readonly trigger: Usable<{ readonly expression: NameExpression; readonly note: string | null }>;
  readonly source: Usable<{ readonly expression: NameExpression }>;
}

const TRIGGER_NEEDS =
  'trade_records.trigger, jsonb as the bot writes it ({"trigger": "roc_momo"}), or a text column with the name';
const SOURCE_NEEDS =
  'trade_records.source, the text the bot writes ("webhook", "websocket", "passivemm", ...)';

/** How trade_records carries trigger and source on this database. */
export async function findTradeInputs(q: Queryable): Promise<TradeInputs> {
  const trades = await findRelation(q, 'trade_records');
  if (!trades?.readable) {
    const why = trades ? 'the report cannot read trade_records' : 'there is no trade_records table';
    return { trigger: needs(`${TRIGGER_NEEDS}: ${why}`), source: needs(`${SOURCE_NEEDS}: ${why}`) };
  }
  const trigger = trades.columns.get('trigger');
  let triggerInput: TradeInputs['trigger'];
  if (!trigger) triggerInput = needs(`${TRIGGER_NEEDS}; it has no trigger column`);
  else if (trigger.type === 'jsonb' || trigger.type === 'json') {
    const cast = trigger.type === 'json' ? '::jsonb' : '';
    triggerInput = {
      ok: true,
      value: {
        expression: (t) => {
          const v = `${t}."trigger"${cast}`;
          return `CASE jsonb_typeof(${v}) WHEN 'object' THEN nullif(btrim(${v} ->> 'trigger'), '')
                    WHEN 'string' THEN nullif(btrim(${v} #>> '{}'), '') END`;
        },
        note: null,
      },
    };
  } else if (trigger.category === 'S') {
    triggerInput = {
      ok: true,
      value: {
        // JSON kept as text gives its "trigger" key (read by pattern: a cast could fail on a bad
        // row); any other text is the name itself.
        expression: (t) => {
          const v = `btrim(${t}."trigger"::text)`;
          return `CASE WHEN ${v} LIKE '{%' THEN nullif(btrim(substring(${v} FROM '"trigger"\\s*:\\s*"([^"]*)"')), '')
                    ELSE nullif(${v}, '') END`;
        },
        note: `trade_records.trigger is ${trigger.type}: its value is the strategy's name (or, as JSON text, its "trigger")`,
      },
    };
  } else {
    triggerInput = needs(`${TRIGGER_NEEDS}; its trigger column is ${trigger.type}`);
  }
  const source = trades.columns.get('source');
  const sourceInput: TradeInputs['source'] = source
    ? { ok: true, value: { expression: (t) => `nullif(btrim(${t}.source::text), '')` } }
    : needs(`${SOURCE_NEEDS}; it has no source column`);
  return { trigger: triggerInput, source: sourceInput };
}

export interface PriceTable {
  /** The table as SQL names it. */
  readonly sql: string;
  /** SELECT symbol, price (numeric), as_of (timestamptz): the latest row per symbol at or before $1. */
  readonly latestSql: string;
}

const PRICE_NEEDS = (name: string) =>
  `a table or view ${name} with columns symbol (text), price (a number) and as_of (a timestamp)`;

/** The configured price table, or what it lacks. */
export async function findPriceTable(q: Queryable, name: string): Promise<Usable<PriceTable>> {
  const table = await findRelation(q, name);
  const want = PRICE_NEEDS(name);
  if (!table) return needs(`${want}; there is none (REPORT_PRICE_TABLE)`);
  if (!table.readable)
    return needs(`${want}, readable by the report: GRANT SELECT ON ${table.sql} TO the report's role`);
  const missing = ['symbol', 'price', 'as_of'].filter((c) => !table.columns.has(c));
  if (missing.length > 0) return needs(`${want}; ${table.sql} has no ${missing.join(', ')}`);
  const price = table.columns.get('price')!;
  const asOf = table.columns.get('as_of')!;
  if (price.category !== 'N' && price.category !== 'S')
    return needs(`${want}; its price column is ${price.type}`);
  if (asOf.category !== 'D' || !['timestamptz', 'timestamp', 'date'].includes(asOf.type))
    return needs(`${want}; its as_of column is ${asOf.type}`);
  // A float's text is its shortest exact form; a timestamp without zone is read as UTC.
  const priceText = `p.price::text`;
  const asOfTz =
    asOf.type === 'timestamptz'
      ? 'p.as_of'
      : asOf.type === 'timestamp'
        ? `(p.as_of AT TIME ZONE 'UTC')`
        : `(p.as_of::timestamp AT TIME ZONE 'UTC')`;
  return {
    ok: true,
    value: {
      sql: table.sql,
      latestSql: `SELECT DISTINCT ON (p.symbol::text) p.symbol::text AS symbol,
                         CASE WHEN ${priceText} ~* '^[0-9]+(\\.[0-9]*)?(e[-+]?[0-9]+)?$' THEN ${priceText}::numeric END AS price,
                         ${asOfTz} AS as_of
                  FROM ${table.sql} p
                  WHERE ${asOfTz} <= $1::timestamptz AND p.symbol::text = ANY ($2::text[])
                    AND p.price IS NOT NULL AND ${priceText} ~* '^[0-9]+(\\.[0-9]*)?(e[-+]?[0-9]+)?$'
                  ORDER BY p.symbol::text, ${asOfTz} DESC`,
    },
  };
}

export interface CashTotals {
  readonly deposits: string;
  readonly withdrawals: string;
  /** deposits - withdrawals. */
  readonly net: string;
  readonly rows: number;
  /** Rows of other types (buys, sends, ...), not counted. */
  readonly otherRows: number;
}

const CASH_NEEDS =
  'cash_transactions with amount_usd and normalized_type or transaction_type ("deposit" / "withdrawal")';

/** Deposits - withdrawals from cash_transactions up to `end`, or what it lacks. */
export async function readCashTransactions(q: Queryable, end: string): Promise<Usable<CashTotals>> {
  const table = await findRelation(q, 'cash_transactions');
  if (!table) return needs(`${CASH_NEEDS}; there is no such table`);
  if (!table.readable)
    return needs(`${CASH_NEEDS}, readable by the report: GRANT SELECT ON ${table.sql} TO the report's role`);
  const amount = table.columns.get('amount_usd');
  const types = ['normalized_type', 'transaction_type'].filter((c) => table.columns.get(c)?.category === 'S');
  if (amount?.category !== 'N' || types.length === 0) {
    const lacks = [
      amount?.category !== 'N' ? (amount ? `amount_usd is ${amount.type}` : 'it has no amount_usd') : '',
      types.length === 0 ? 'it has no text normalized_type or transaction_type' : '',
    ].filter(Boolean);
    return needs(`${CASH_NEEDS}; ${lacks.join(', ')}`);
  }
  const type = `lower(btrim(coalesce(${types.map((c) => `nullif(btrim(c.${quote(c)}), '')`).join(', ')})))`;
  const date = table.columns.get('transaction_date');
  const when =
    date?.type === 'timestamptz'
      ? 'AND (c.transaction_date IS NULL OR c.transaction_date <= $1::timestamptz)'
      : date?.type === 'timestamp'
        ? `AND (c.transaction_date IS NULL OR c.transaction_date AT TIME ZONE 'UTC' <= $1::timestamptz)`
        : 'AND $1::timestamptz IS NOT NULL';
  const result = await attempt(q, async () => {
    const { rows } = await q.query<{ deposits: string; withdrawals: string; n: string; other: string }>(
      `WITH c AS (
         SELECT CASE WHEN ${type} LIKE 'deposit%' THEN 'deposit' WHEN ${type} LIKE 'withdraw%' THEN 'withdrawal' END AS kind,
                abs(c.amount_usd::numeric) AS amount
         FROM ${table.sql} c
         WHERE c.amount_usd IS NOT NULL ${when}
       )
       SELECT coalesce(trim_scale(sum(amount) FILTER (WHERE kind = 'deposit')), 0)::text AS deposits,
              coalesce(trim_scale(sum(amount) FILTER (WHERE kind = 'withdrawal')), 0)::text AS withdrawals,
              count(*) FILTER (WHERE kind IS NOT NULL)::text AS n,
              count(*) FILTER (WHERE kind IS NULL)::text AS other
       FROM c`,
      [end],
    );
    return rows[0]!;
  });
  if (!result.ok) return needs(`${CASH_NEEDS}; ${result.needs}`);
  const r = result.value;
  if (r.n === '0') return needs(`${CASH_NEEDS}; it has no deposit or withdrawal up to the report's end`);
  return {
    ok: true,
    value: {
      deposits: r.deposits,
      withdrawals: r.withdrawals,
      net: minus(r.deposits, r.withdrawals),
      rows: Number(r.n),
      otherRows: Number(r.other),
    },
  };
}
