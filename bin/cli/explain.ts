/**
 * `fifo explain ORDER_ID`: what FIFO made of any trade, whatever it is.
 *
 * - a sell: each lot slice it took, and any part no lot covered, whose PnL is not known (never 0);
 * - a buy: its lot, the sells that took from it (sizes, cost, PnL) and what remains;
 * - a trade FIFO leaves out: the rule that excluded it (its status, a per-fill row) or why it
 *   was rejected;
 * - an id in no table: says so.
 */
import type pg from 'pg';
import { numericText, utcText } from '../../shared/db/sql.ts';
import { plural, usdText } from './options.ts';

export interface ExplainedTrade {
  readonly order_id: string;
  readonly symbol: string;
  readonly side: string;
  readonly order_time: string;
  readonly price: string | null;
  readonly size: string | null;
  readonly fee: string | null;
  readonly status: string | null;
}

export interface SellSlice {
  readonly buy_order_id: string;
  readonly buy_time: string;
  readonly buy_price: string;
  readonly size: string;
  readonly cost_basis_usd: string;
  readonly proceeds_usd: string;
  readonly net_proceeds_usd: string;
  readonly pnl_usd: string;
}

export interface UnmatchedPart {
  readonly size: string;
  readonly proceeds_usd: string;
  readonly net_proceeds_usd: string;
  readonly notes: string | null;
}

export interface LotTaken {
  readonly sell_order_id: string;
  readonly sell_time: string;
  readonly size: string;
  readonly cost_basis_usd: string;
  readonly net_proceeds_usd: string;
  readonly pnl_usd: string;
}

/** Why FIFO has nothing for a trade that is in trade_records. */
export interface Exclusion {
  /** `status`: not filled; `fill_row`: a per-fill row; `rejected`: a bad row; `not_processed`: not yet run. */
  readonly rule: 'status' | 'fill_row' | 'rejected' | 'not_processed';
  readonly reason: string;
}

export type ExplanationKind = 'sell' | 'buy' | 'excluded' | 'removed' | 'not_found';

/** `explain --json`: one shape for every kind, the parts that do not apply null. */
export interface Explanation {
  readonly order_id: string;
  readonly version: number;
  readonly kind: ExplanationKind;
  /** The row in trade_records, as stored; null when it is not there (any more). */
  readonly trade: ExplainedTrade | null;
  readonly excluded: Exclusion | null;
  readonly sell: {
    readonly slices: SellSlice[];
    readonly unmatched: UnmatchedPart | null;
    readonly matched_size: string;
    /** Null when part of the sell had no lot: that part's PnL is not known. */
    readonly pnl_known: boolean;
    /** The PnL of the matched part; null when nothing was matched. */
    readonly realized_pnl_usd: string | null;
  } | null;
  readonly buy: {
    readonly lot: {
      readonly symbol: string;
      readonly buy_time: string;
      readonly buy_price: string;
      readonly size: string;
      readonly remaining_size: string;
      readonly remaining_cost_usd: string;
    };
    readonly taken_by: LotTaken[];
    readonly taken_size: string;
    readonly realized_pnl_usd: string;
  } | null;
}

type Queryable = pg.Pool | pg.ClientBase;

async function one<T extends pg.QueryResultRow>(
  db: Queryable,
  sql: string,
  values: unknown[],
): Promise<T | null> {
  const { rows } = await db.query<T>(sql, values);
  return rows[0] ?? null;
}

/** The status values the trade source counts (migrations/0006: fifo_trade_source). */
const COUNTED_STATUSES = 'NULL, filled or done';

export async function explainOrder(db: Queryable, version: number, orderId: string): Promise<Explanation> {
  const trade = await one<ExplainedTrade>(
    db,
    `SELECT order_id, symbol, side, ${utcText('order_time')} AS order_time, price::text AS price,
            size::text AS size, total_fees_usd::text AS fee, status
     FROM trade_records WHERE order_id = $1`,
    [orderId],
  );
  const { rows: sold } = await db.query<SellSlice & { buy_order_id: string | null; notes: string | null }>(
    `SELECT buy_order_id, ${utcText('buy_time')} AS buy_time, ${numericText('buy_price')} AS buy_price,
            ${numericText('allocated_size')} AS size, ${numericText('cost_basis_usd')} AS cost_basis_usd,
            ${numericText('proceeds_usd')} AS proceeds_usd, ${numericText('net_proceeds_usd')} AS net_proceeds_usd,
            ${numericText('pnl_usd')} AS pnl_usd, notes
     FROM fifo_allocations WHERE allocation_version = $1 AND sell_order_id = $2
     ORDER BY buy_time NULLS LAST, buy_order_id COLLATE "C"`,
    [version, orderId],
  );
  const lot = await one<NonNullable<Explanation['buy']>['lot']>(
    db,
    `SELECT symbol, ${utcText('buy_time')} AS buy_time, ${numericText('buy_price')} AS buy_price,
            ${numericText('size')} AS size, ${numericText('remaining_size')} AS remaining_size,
            ${numericText('remaining_cost_usd')} AS remaining_cost_usd
     FROM fifo_lots WHERE allocation_version = $1 AND buy_order_id = $2`,
    [version, orderId],
  );
  const base = { order_id: orderId, version, trade, excluded: null, sell: null, buy: null };

  if (sold.length > 0) {
    const slices = sold.filter((s) => s.buy_order_id !== null).map(({ notes: _, ...s }) => s as SellSlice);
    const rest = sold.find((s) => s.buy_order_id === null);
    const totals = await one<{ matched: string; pnl: string | null }>(
      db,
      `SELECT coalesce(trim_scale(sum(allocated_size) FILTER (WHERE buy_order_id IS NOT NULL)), 0)::text AS matched,
              trim_scale(sum(pnl_usd))::text AS pnl
       FROM fifo_allocations WHERE allocation_version = $1 AND sell_order_id = $2`,
      [version, orderId],
    );
    return {
      ...base,
      kind: trade ? 'sell' : 'removed',
      sell: {
        slices,
        unmatched: rest
          ? {
              size: rest.size,
              proceeds_usd: rest.proceeds_usd,
              net_proceeds_usd: rest.net_proceeds_usd,
              notes: rest.notes,
            }
          : null,
        matched_size: totals!.matched,
        pnl_known: rest === undefined,
        realized_pnl_usd: slices.length > 0 ? totals!.pnl : null,
      },
    };
  }
  if (lot) {
    const { rows: takenBy } = await db.query<LotTaken>(
      `SELECT sell_order_id, ${utcText('sell_time')} AS sell_time, ${numericText('allocated_size')} AS size,
              ${numericText('cost_basis_usd')} AS cost_basis_usd,
              ${numericText('net_proceeds_usd')} AS net_proceeds_usd, ${numericText('pnl_usd')} AS pnl_usd
       FROM fifo_allocations WHERE allocation_version = $1 AND buy_order_id = $2
       ORDER BY sell_time, sell_order_id COLLATE "C"`,
      [version, orderId],
    );
    const totals = await one<{ size: string; pnl: string }>(
      db,
      `SELECT coalesce(trim_scale(sum(allocated_size)), 0)::text AS size,
              coalesce(trim_scale(sum(pnl_usd)), 0)::text AS pnl
       FROM fifo_allocations WHERE allocation_version = $1 AND buy_order_id = $2`,
      [version, orderId],
    );
    return {
      ...base,
      kind: trade ? 'buy' : 'removed',
      buy: { lot, taken_by: takenBy, taken_size: totals!.size, realized_pnl_usd: totals!.pnl },
    };
  }
  if (!trade) return { ...base, kind: 'not_found' };
  return { ...base, kind: 'excluded', excluded: await exclusion(db, version, trade) };
}

async function exclusion(db: Queryable, version: number, trade: ExplainedTrade): Promise<Exclusion> {
  const status = trade.status?.trim().toLowerCase() ?? null;
  if (status !== null && status !== 'filled' && status !== 'done') {
    return {
      rule: 'status',
      reason:
        `its status is "${trade.status}": FIFO counts only trades whose status is ${COUNTED_STATUSES} ` +
        '(the fifo_trade_source view)',
    };
  }
  if (/-FILL-[0-9]+$/.test(trade.order_id)) {
    return {
      rule: 'fill_row',
      reason:
        "it is a per-fill row (order_id ending -FILL-N): FIFO counts the order's own row, which carries " +
        'every fill (the fifo_trade_source view)',
    };
  }
  const rejected = await one<{ reason: string }>(
    db,
    'SELECT reason FROM fifo_rejected_trades WHERE order_id = $1',
    [trade.order_id],
  );
  if (rejected) return { rule: 'rejected', reason: `rejected as a bad row: ${rejected.reason}` };
  return {
    rule: 'not_processed',
    reason:
      trade.side.trim().toLowerCase() === 'sell'
        ? `version ${version} has no allocation of it yet: run fifo incremental --version ${version}`
        : `version ${version} has no lot of it yet: run fifo incremental --version ${version}`,
  };
}

/** The text `fifo explain` prints; amounts to 2 decimals unless `exact`. */
export function explanationText(e: Explanation, exact = false): string {
  const usd = (v: string | null) => (v === null ? 'none' : usdText(v, exact));
  const t = e.trade;
  const lines: string[] = [];
  if (t) {
    lines.push(
      `${t.side} ${t.order_id} ${t.symbol} at ${t.order_time}: size ${t.size ?? 'none'} @ ${t.price ?? 'none'}, ` +
        `fee ${t.fee ?? '0'}${t.status === null ? '' : `, status ${t.status}`}`,
    );
  } else if (e.kind === 'removed') {
    lines.push(
      `${e.order_id}: no longer in trade_records (its ${e.sell ? 'allocations remain' : 'lot remains'} until the next run)`,
    );
  }
  if (e.kind === 'not_found') {
    lines.push(
      `no trade with order_id "${e.order_id}" in trade_records, and no allocation or lot of version ${e.version}`,
    );
  }
  if (e.excluded) lines.push(`not in FIFO: ${e.excluded.reason}`);
  if (e.sell) {
    for (const s of e.sell.slices) {
      lines.push(
        `  from lot ${s.buy_order_id} bought ${s.buy_time} @ ${s.buy_price}: size ${s.size}, cost ${usd(s.cost_basis_usd)}, ` +
          `net proceeds ${usd(s.net_proceeds_usd)}, pnl ${usd(s.pnl_usd)}`,
      );
    }
    const u = e.sell.unmatched;
    if (u) {
      lines.push(
        `  no open lot for size ${u.size}: net proceeds ${usd(u.net_proceeds_usd)}, no cost basis: PnL not known`,
      );
    }
    if (!u) {
      lines.push(`realized pnl: ${usd(e.sell.realized_pnl_usd)} USD (version ${e.version})`);
    } else if (e.sell.slices.length === 0) {
      lines.push(`realized pnl: no cost basis: PnL not known (version ${e.version})`);
    } else {
      lines.push(
        `realized pnl: ${usd(e.sell.realized_pnl_usd)} USD on the ${e.sell.matched_size} matched; ` +
          `no cost basis for the other ${u.size}: PnL not known for it (version ${e.version})`,
      );
    }
  }
  if (e.buy) {
    const lot = e.buy.lot;
    lines.push(
      `  lot: ${lot.size} bought ${lot.buy_time} @ ${lot.buy_price}; ${lot.remaining_size} remain, ` +
        `remaining cost ${usd(lot.remaining_cost_usd)} USD`,
    );
    for (const s of e.buy.taken_by) {
      lines.push(
        `  taken by sell ${s.sell_order_id} at ${s.sell_time}: size ${s.size}, cost ${usd(s.cost_basis_usd)}, ` +
          `net proceeds ${usd(s.net_proceeds_usd)}, pnl ${usd(s.pnl_usd)}`,
      );
    }
    lines.push(
      `realized pnl on this lot: ${usd(e.buy.realized_pnl_usd)} USD over ${plural(e.buy.taken_by.length, 'sell')} ` +
        `(version ${e.version})`,
    );
  }
  return lines.join('\n');
}
