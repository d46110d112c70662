/** Reading the trade source (the fifo_trade_source view) in FIFO processing order. */
import type pg from 'pg';
import { parseTrade, type Trade } from '../fifo/index.ts';
import { utcText } from './sql.ts';

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
}

export interface RejectedTrade {
  readonly orderId: string;
  readonly symbol: string;
  readonly reason: string;
}

export const SOURCE_SELECT = `SELECT order_id, symbol, side, ${utcText('order_time')} AS order_time,
  price, size, fee, remaining_size FROM fifo_trade_source`;

/** Processing order within a symbol (DESIGN.md §2 rule 1), as PostgreSQL sorts it. */
export const SOURCE_ORDER = `order_time, (side = 'sell'), order_id COLLATE "C"`;

/** Checks a source row: the engine's trade, or the reason it is excluded. */
export function checkSourceRow(row: SourceRow): { trade: Trade } | { rejected: RejectedTrade } {
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
