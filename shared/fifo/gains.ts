/**
 * Computing amounts for the slices that lot selection chose (DESIGN.md §2 rules 2-5).
 * Every USD amount is rounded half to even to USD_SCALE places, and the slice that ends
 * a lot or a sell takes the exact remainder, so totals are conserved to the quantum.
 */
import { divHalfEven, PER_UNIT_ONE, PRODUCT_TO_USD, QTY_ONE } from './decimal.ts';
import type { Lot, Trade } from './types.ts';

/** A buy's lot cost as a total: round(size x price + fee). */
export function lotCost(buy: Trade): bigint {
  return divHalfEven(buy.size * buy.price + buy.fee * QTY_ONE, PRODUCT_TO_USD);
}

/** Fee per unit (PER_UNIT_SCALE places); informational only, totals never use it. */
export function feePerUnit(trade: Trade): bigint {
  return divHalfEven(trade.fee * PER_UNIT_ONE, trade.size);
}

/** Opens the lot of a buy. */
export function openLot(buy: Trade): Lot {
  return {
    buyOrderId: buy.orderId,
    symbol: buy.symbol,
    buyTime: buy.time,
    buyPrice: buy.price,
    buyFeesPerUnit: feePerUnit(buy),
    size: buy.size,
    remaining: buy.size,
    remainingCost: lotCost(buy),
  };
}

/**
 * Cost basis of taking `size` from a lot: its remaining cost pro-rated by units, except
 * that the slice which empties the lot takes all of the remaining cost.
 */
export function sliceCost(lot: Lot, size: bigint, emptiesLot: boolean): bigint {
  if (emptiesLot) return lot.remainingCost;
  return divHalfEven(lot.remainingCost * size, lot.remaining);
}

/**
 * Splits a sell's proceeds over its slices. The sell's totals are fixed first:
 * gross = round(size x price) and net = round(size x price - fee). Each slice gets its
 * units' share of both; the last slice gets what is left, so the slices sum exactly.
 */
export class SellProceeds {
  private grossLeft: bigint;
  private feeLeft: bigint;
  private readonly feeTotal: bigint;

  constructor(private readonly sell: Trade) {
    const notional = sell.size * sell.price;
    const gross = divHalfEven(notional, PRODUCT_TO_USD);
    const net = divHalfEven(notional - sell.fee * QTY_ONE, PRODUCT_TO_USD);
    this.grossLeft = gross;
    this.feeTotal = gross - net;
    this.feeLeft = this.feeTotal;
  }

  /** Gross and net proceeds of the next slice of `size` units. */
  take(size: bigint, isLast: boolean): { proceeds: bigint; netProceeds: bigint } {
    const proceeds = isLast ? this.grossLeft : divHalfEven(this.sell.price * size, PRODUCT_TO_USD);
    const fee = isLast ? this.feeLeft : divHalfEven(this.feeTotal * size, this.sell.size);
    this.grossLeft -= proceeds;
    this.feeLeft -= fee;
    return { proceeds, netProceeds: proceeds - fee };
  }
}
