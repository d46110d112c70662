/**
 * The FIFO book of one symbol. It is resumable: build it from the open lots a previous
 * run left and the position it reached, and it continues with the next trades exactly as
 * if it had seen the whole history (an incremental run depends on this).
 */
import { formatQty } from './decimal.ts';
import { feePerUnit, openLot, SellProceeds, sliceCost } from './gains.ts';
import { OpenLots } from './lot-selection.ts';
import { compareLots, compareTradeKeys } from './order.ts';
import type { Allocation, DustWriteOff, EngineOptions, Lot, Trade, TradeKey } from './types.ts';

/** A sell that open lots do not cover, under onUnmatched 'error'. */
export class UnmatchedSellError extends Error {
  override name = 'UnmatchedSellError';
  constructor(
    readonly sell: Trade,
    readonly uncovered: bigint,
  ) {
    super(
      `sell ${sell.orderId} (${sell.symbol} at ${sell.time}): ${formatQty(uncovered)} of ` +
        `${formatQty(sell.size)} is not covered by open lots`,
    );
  }
}

/** A trade fed to a book out of processing order: a bug in the caller, never data. */
export class TradeOrderError extends Error {
  override name = 'TradeOrderError';
}

export class SymbolBook {
  private readonly open = new OpenLots();
  private closed: Lot[] = [];
  private writeOffs: DustWriteOff[] = [];
  private last: TradeKey | null;
  private readonly dust: bigint;
  private readonly unmatchedIsError: boolean;

  /**
   * @param lots open lots of this symbol from an earlier run (any order; sorted here). The
   *   book takes them over and updates them in place as sells consume them.
   * @param after the position of the last trade those lots reflect, if any
   */
  constructor(
    readonly symbol: string,
    lots: Iterable<Lot> = [],
    options: EngineOptions = {},
    after: TradeKey | null = null,
  ) {
    const sorted = [...lots].sort(compareLots);
    for (const lot of sorted) {
      if (lot.symbol !== symbol) throw new TradeOrderError(`lot ${lot.buyOrderId} is not of ${symbol}`);
      if (lot.remaining > 0n) this.open.push(lot);
    }
    this.last = after;
    this.dust = options.dust?.get(symbol) ?? 0n;
    this.unmatchedIsError = options.onUnmatched === 'error';
  }

  /** The last trade applied (or the position the book was resumed at). */
  get position(): TradeKey | null {
    return this.last;
  }

  /** Applies the next trade of this symbol; a sell appends its slices to `out`. */
  apply(trade: Trade, out: Allocation[]): void {
    if (trade.symbol !== this.symbol) {
      throw new TradeOrderError(`trade ${trade.orderId} is ${trade.symbol}, not ${this.symbol}`);
    }
    if (this.last !== null && compareTradeKeys(trade, this.last) <= 0) {
      throw new TradeOrderError(`trade ${trade.orderId} comes before ${this.last.orderId} in FIFO order`);
    }
    if (trade.side === 'buy') this.open.push(openLot(trade));
    else this.sell(trade, out);
    // The trade is its own key (time, side, order id): no copy per trade.
    this.last = trade;
  }

  private sell(sell: Trade, out: Allocation[]): void {
    const { slices, uncovered } = this.open.select(sell.size);
    if (uncovered > 0n && this.unmatchedIsError && uncovered >= this.dust) {
      throw new UnmatchedSellError(sell, uncovered);
    }
    const proceeds = new SellProceeds(sell);
    const sellFeesPerUnit = feePerUnit(sell);
    for (let i = 0; i < slices.length; i++) {
      const { lot, size, emptiesLot } = slices[i]!;
      const costBasis = sliceCost(lot, size, emptiesLot);
      lot.remaining -= size;
      lot.remainingCost -= costBasis;
      const { proceeds: gross, netProceeds } = proceeds.take(size);
      out.push({
        sellOrderId: sell.orderId,
        buyOrderId: lot.buyOrderId,
        symbol: sell.symbol,
        allocatedSize: size,
        buyPrice: lot.buyPrice,
        sellPrice: sell.price,
        buyFeesPerUnit: lot.buyFeesPerUnit,
        sellFeesPerUnit,
        costBasis,
        proceeds: gross,
        netProceeds,
        pnl: netProceeds - costBasis,
        buyTime: lot.buyTime,
        sellTime: sell.time,
        notes: null,
      });
    }
    for (const lot of this.open.dropEmpty()) this.closed.push(lot);
    if (uncovered === 0n) return;

    const rest = proceeds.take(uncovered);
    if (uncovered < this.dust) {
      this.writeOffs.push({
        sellOrderId: sell.orderId,
        symbol: sell.symbol,
        size: uncovered,
        proceeds: rest.proceeds,
        netProceeds: rest.netProceeds,
      });
      return;
    }
    out.push({
      sellOrderId: sell.orderId,
      buyOrderId: null,
      symbol: sell.symbol,
      allocatedSize: uncovered,
      buyPrice: null,
      sellPrice: sell.price,
      buyFeesPerUnit: null,
      sellFeesPerUnit,
      costBasis: null,
      proceeds: rest.proceeds,
      netProceeds: rest.netProceeds,
      pnl: null,
      buyTime: null,
      sellTime: sell.time,
      notes: `unmatched: ${formatQty(uncovered)} of ${formatQty(sell.size)} sold had no open lot`,
    });
  }

  /** The lots still open, oldest first. */
  openLots(): Lot[] {
    return this.open.toArray();
  }

  /** Lots emptied since the last call; their state is final. */
  takeClosedLots(): Lot[] {
    const closed = this.closed;
    this.closed = [];
    return closed;
  }

  /** Dust written off since the last call. */
  takeWriteOffs(): DustWriteOff[] {
    const writeOffs = this.writeOffs;
    this.writeOffs = [];
    return writeOffs;
  }
}
