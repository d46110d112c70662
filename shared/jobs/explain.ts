/** `fifo explain SELL_ORDER_ID`: the sell, every lot slice it took, and any unmatched rest. */
import type pg from 'pg';
import { numericText, utcText } from '../db/sql.ts';
import { SOURCE_SELECT, type SourceRow } from '../db/trades.ts';

export interface SellSlice {
  readonly buyOrderId: string | null;
  readonly buyTime: string | null;
  readonly size: string;
  readonly buyPrice: string | null;
  readonly costBasisUsd: string | null;
  readonly proceedsUsd: string;
  readonly netProceedsUsd: string;
  readonly pnlUsd: string | null;
  readonly notes: string | null;
}

export interface SellExplanation {
  readonly version: number;
  /** The trade as the engine reads it; null if it is no longer in the trade source. */
  readonly sell: SourceRow | null;
  readonly slices: SellSlice[];
  readonly unmatched: SellSlice | null;
  readonly realizedPnlUsd: string;
  readonly rejection: string | null;
}

export async function explainSell(
  db: pg.Pool | pg.ClientBase,
  version: number,
  sellOrderId: string,
): Promise<SellExplanation> {
  const { rows: sells } = await db.query<SourceRow>(`${SOURCE_SELECT} WHERE order_id = $1`, [sellOrderId]);
  const { rows } = await db.query<{
    buy_order_id: string | null;
    buy_time: string | null;
    size: string;
    buy_price: string | null;
    cost: string | null;
    proceeds: string;
    net: string;
    pnl: string | null;
    notes: string | null;
  }>(
    `SELECT buy_order_id, ${utcText('buy_time')} AS buy_time, ${numericText('allocated_size')} AS size,
       ${numericText('buy_price')} AS buy_price, ${numericText('cost_basis_usd')} AS cost,
       ${numericText('proceeds_usd')} AS proceeds, ${numericText('net_proceeds_usd')} AS net,
       ${numericText('pnl_usd')} AS pnl, notes
     FROM fifo_allocations WHERE allocation_version = $1 AND sell_order_id = $2
     ORDER BY buy_time NULLS LAST, buy_order_id COLLATE "C"`,
    [version, sellOrderId],
  );
  const { rows: total } = await db.query<{ pnl: string }>(
    `SELECT coalesce(trim_scale(sum(pnl_usd)), 0)::text AS pnl FROM fifo_allocations
     WHERE allocation_version = $1 AND sell_order_id = $2`,
    [version, sellOrderId],
  );
  const { rows: rejection } = await db.query<{ reason: string }>(
    'SELECT reason FROM fifo_rejected_trades WHERE order_id = $1',
    [sellOrderId],
  );
  const slices: SellSlice[] = rows.map((r) => ({
    buyOrderId: r.buy_order_id,
    buyTime: r.buy_time,
    size: r.size,
    buyPrice: r.buy_price,
    costBasisUsd: r.cost,
    proceedsUsd: r.proceeds,
    netProceedsUsd: r.net,
    pnlUsd: r.pnl,
    notes: r.notes,
  }));
  return {
    version,
    sell: sells[0] ?? null,
    slices: slices.filter((s) => s.buyOrderId !== null),
    unmatched: slices.find((s) => s.buyOrderId === null) ?? null,
    realizedPnlUsd: total[0]!.pnl,
    rejection: rejection[0]?.reason ?? null,
  };
}
