/** Reading the trade source (the fifo_trade_source view) in FIFO processing order. */
import type pg from 'pg';
import { parseTrade, type Trade } from '../fifo/index.ts';
import type { TableSpec } from '../tables/spec.ts';
import { TRADE_SOURCE } from '../tables/trade-source.ts';
import { CopyRowStream } from './copy-stream.ts';
import { canonicalSelect, utcText } from './sql.ts';

/** A trade source row: every value as text, order_time already canonical. */
export interface SourceRow {
  readonly order_id: string;
  readonly symbol: string;
  readonly side: string;
  readonly order_time: string;
  readonly price: string | null;
  readonly size: string | null;
  readonly fee: string | null;
  /** trade_records.remaining_size as text (buys), to skip writing unchanged values. */
  readonly remaining_size: string | null;
  /**
   * 'future' for times from the year 10000 on (or infinity), 'past' before the year 1 (or
   * -infinity); null otherwise. Such times have no canonical text and are rejected.
   */
  readonly out_of_range: 'future' | 'past' | null;
}

export interface RejectedTrade {
  readonly orderId: string;
  readonly symbol: string;
  readonly reason: string;
}

/** The columns a select of the trade source gives, in order: the view's, then out_of_range. */
export const sourceColumns = (source: TableSpec): readonly string[] => [
  ...source.columns.map((c) => c.name),
  'out_of_range',
];

/** Every column of the trade source as canonical text, and whether its time is out of range. */
export function sourceSelect(source: TableSpec): string {
  const names = source.columns.map((c) => c.name);
  return `SELECT ${canonicalSelect(source, names)},
  CASE WHEN order_time >= '10000-01-01T00:00:00Z' THEN 'future'
       WHEN order_time < '0001-01-01T00:00:00Z' THEN 'past' END AS out_of_range
  FROM ${source.name}`;
}

export const SOURCE_SELECT = sourceSelect(TRADE_SOURCE);

/** Processing order within a symbol (docs/design.md §2 rule 1), as PostgreSQL sorts it. */
export const SOURCE_ORDER = `order_time, (side = 'sell'), order_id COLLATE "C"`;

/** The reason given to trades dated after the horizon; incremental runs look for it. */
export const FUTURE_REASON = 'order_time is in the future';

/**
 * The latest acceptable order_time: one day ahead of the database clock. A fill cannot
 * happen in the future, so a later time is a bad row, kept for review; once the clock
 * passes it, the next incremental run takes the trade in (see incremental.ts).
 */
export async function readHorizon(client: pg.ClientBase): Promise<string> {
  const { rows } = await client.query<{ horizon: string }>(
    `SELECT ${utcText("now() + interval '1 day'")} AS horizon`,
  );
  return rows[0]!.horizon;
}

/**
 * Per-fill rows whose order row is missing. Fill rows never count (the trade source leaves
 * them out, migrations/0006): without their order row, the fills are missing from FIFO.
 */
export async function orphanFills(client: pg.ClientBase): Promise<RejectedTrade[]> {
  const { rows } = await client.query<{ order_id: string; symbol: string }>(
    `SELECT f.order_id, f.symbol FROM trade_records f
     WHERE f.order_id ~ '-FILL-[0-9]+$'
       AND NOT EXISTS (SELECT 1 FROM trade_records p WHERE p.order_id = regexp_replace(f.order_id, '-FILL-[0-9]+$', ''))`,
  );
  return rows.map((r) => ({
    orderId: r.order_id,
    symbol: r.symbol,
    reason: 'per-fill row without its order row: only order rows count, so these fills are missing from FIFO',
  }));
}

/** Whether a row's time can be a position in FIFO order (out-of-range times cannot). */
export const hasPosition = (row: SourceRow): boolean => row.out_of_range === null;

/** Checks a source row: the engine's trade, or the reason it is excluded. */
export function checkSourceRow(
  row: SourceRow,
  horizon: string,
): { trade: Trade } | { rejected: RejectedTrade } {
  if (row.out_of_range === 'past') {
    return {
      rejected: { orderId: row.order_id, symbol: row.symbol, reason: 'order_time is before the year 1' },
    };
  }
  if (row.out_of_range === 'future' || row.order_time > horizon) {
    return {
      rejected: {
        orderId: row.order_id,
        symbol: row.symbol,
        reason: `${FUTURE_REASON}: ${row.out_of_range ? 'beyond the year 9999' : row.order_time} is more than a day after the database clock`,
      },
    };
  }
  const checked = parseTrade(row as unknown as Record<string, unknown>, true);
  if (checked.trade) return { trade: checked.trade };
  return { rejected: { orderId: row.order_id, symbol: row.symbol, reason: checked.problems.join('; ') } };
}

/**
 * A server-side cursor over trade source rows, read in batches, so memory stays bounded
 * whatever the history. It lives in the caller's transaction and sees the snapshot taken
 * when it opened, while the same connection goes on writing.
 */
export class TradeCursor {
  private closed = false;

  private constructor(
    private readonly client: pg.ClientBase,
    private readonly name: string,
  ) {}

  static async open(
    client: pg.ClientBase,
    name: string,
    where: string,
    params: unknown[],
    order: string,
  ): Promise<TradeCursor> {
    await client.query(
      `DECLARE ${name} NO SCROLL CURSOR FOR ${SOURCE_SELECT} ${where} ORDER BY ${order}`,
      params,
    );
    return new TradeCursor(client, name);
  }

  /** The next rows; empty when the cursor is exhausted. */
  async next(count: number): Promise<SourceRow[]> {
    if (this.closed) return [];
    const { rows } = await this.client.query<SourceRow>(`FETCH ${count} FROM ${this.name}`);
    if (rows.length < count) await this.close();
    return rows;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.query(`CLOSE ${this.name}`);
  }
}

/** A source of trade rows in batches, ending with an empty batch. */
export interface TradeSource {
  next(): Promise<SourceRow[]>;
  close(): Promise<void>;
}

/**
 * Reads COPY lines of a select whose columns are `columns` as source rows, by name: where each
 * field stands is looked up once, so a row costs one object literal, as by position.
 */
export function sourceRowReader(columns: readonly string[]): (f: (string | null)[]) => SourceRow {
  const at = (name: keyof SourceRow): number => {
    const i = columns.indexOf(name);
    if (i < 0) throw new Error(`the trade source select has no column ${name}`);
    return i;
  };
  const orderId = at('order_id');
  const symbol = at('symbol');
  const side = at('side');
  const orderTime = at('order_time');
  const price = at('price');
  const size = at('size');
  const fee = at('fee');
  const remaining = at('remaining_size');
  const outOfRange = at('out_of_range');
  return (f) =>
    ({
      order_id: f[orderId],
      symbol: f[symbol],
      side: f[side],
      order_time: f[orderTime],
      price: f[price] ?? null,
      size: f[size] ?? null,
      fee: f[fee] ?? null,
      remaining_size: f[remaining] ?? null,
      out_of_range: f[outOfRange] ?? null,
    }) as SourceRow;
}

const sourceRow = sourceRowReader(sourceColumns(TRADE_SOURCE));

/**
 * Every trade of the source in processing order, read with COPY on a second connection that
 * shares the caller's snapshot (pg_export_snapshot), so the rows are exactly those the
 * caller's transaction sees.
 */
export async function openCopyTradeSource(
  writer: pg.ClientBase,
  reader: pg.PoolClient,
  order: string,
  /** Reads what else must be seen in the same snapshot, before the trades stream. */
  atSnapshot: (snapshot: pg.ClientBase) => Promise<void> = async () => {},
  /** Only these symbols (a partition's); null: every trade. */
  scope: readonly string[] | null = null,
): Promise<TradeSource> {
  const { rows } = await writer.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
  await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  await reader.query(`SET TRANSACTION SNAPSHOT '${rows[0]!.id.replace(/'/g, "''")}'`);
  await atSnapshot(reader);
  // COPY takes no parameters: the symbols are written as escaped literals.
  const where =
    scope === null
      ? ''
      : `WHERE symbol = ANY(ARRAY[${scope.map((s) => reader.escapeLiteral(s)).join(', ')}]::varchar[])`;
  const stream = new CopyRowStream(reader, `${SOURCE_SELECT} ${where} ORDER BY ${order}`);
  return {
    async next() {
      return (await stream.next()).map(sourceRow);
    },
    async close() {
      await reader.query('COMMIT').catch(() => {});
    },
  };
}

/** The cursor as a TradeSource, on the caller's own connection (PGlite: one session). */
export function cursorTradeSource(cursor: TradeCursor, batch: number): TradeSource {
  return { next: () => cursor.next(batch), close: () => cursor.close() };
}
