/**
 * The engine's vocabulary. Quantities (size, price, fee) are BigInts scaled by QTY_SCALE,
 * USD amounts BigInts scaled by USD_SCALE, times canonical UTC text (see time.ts).
 */

export type Side = 'buy' | 'sell';

/** A validated trade, ready for the engine. */
export interface Trade {
  readonly orderId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly time: string;
  readonly price: bigint;
  readonly size: bigint;
  /** Fee in quote currency; 0 when the source has none. */
  readonly fee: bigint;
}

/** A buy's open (or closed) lot. The cost is kept as a total, never as a unit price. */
export interface Lot {
  readonly buyOrderId: string;
  readonly symbol: string;
  readonly buyTime: string;
  readonly buyPrice: bigint;
  /** The buy's fee divided by its size, PER_UNIT_SCALE places (informational). */
  readonly buyFeesPerUnit: bigint;
  readonly size: bigint;
  remaining: bigint;
  /** USD, USD_SCALE places. */
  remainingCost: bigint;
}

/**
 * One slice of a sell: the part taken from one lot, or (buyOrderId null) the part that no
 * open lot covered. USD fields are USD_SCALE places.
 */
export interface Allocation {
  readonly sellOrderId: string;
  readonly buyOrderId: string | null;
  readonly symbol: string;
  readonly allocatedSize: bigint;
  readonly buyPrice: bigint | null;
  readonly sellPrice: bigint;
  readonly buyFeesPerUnit: bigint | null;
  readonly sellFeesPerUnit: bigint;
  readonly costBasis: bigint | null;
  /** Gross: sell price x allocated size. */
  readonly proceeds: bigint;
  /** Proceeds less this slice's share of the sell fee. */
  readonly netProceeds: bigint;
  readonly pnl: bigint | null;
  readonly buyTime: string | null;
  readonly sellTime: string;
  readonly notes: string | null;
}

/** An unmatched remainder below the symbol's dust threshold, written off instead of stored. */
export interface DustWriteOff {
  readonly sellOrderId: string;
  readonly symbol: string;
  readonly size: bigint;
  /** Gross proceeds of the written-off units (USD_SCALE). */
  readonly proceeds: bigint;
  readonly netProceeds: bigint;
}

/** What to do with the part of a sell that no open lot covers (docs/design.md §2 rule 6). */
export type OnUnmatched = 'row' | 'error';

export interface EngineOptions {
  /** Default 'row': one allocation with buy_order_id null. 'error' throws UnmatchedSellError. */
  readonly onUnmatched?: OnUnmatched;
  /** Per-symbol dust threshold (QTY_SCALE): unmatched remainders strictly below it are written off. */
  readonly dust?: ReadonlyMap<string, bigint>;
}

/** The position of a trade in processing order; a book only accepts trades after it. */
export interface TradeKey {
  readonly time: string;
  readonly side: Side;
  readonly orderId: string;
}
