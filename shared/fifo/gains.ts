/**
 * Computing amounts for the slices that lot selection chose (docs/design.md §2 rules 2-5).
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
 * units' share of what is still unassigned (as a lot's cost is shared), so the slice that
 * ends the sell takes the exact remainder and no slice's share can turn negative.
 */
export class SellProceeds {
  private grossLeft: bigint;
  private feeLeft: bigint;
  private unitsLeft: bigint;

  constructor(sell: Trade) {
    const notional = sell.size * sell.price;
    const gross = divHalfEven(notional, PRODUCT_TO_USD);
    const net = divHalfEven(notional - sell.fee * QTY_ONE, PRODUCT_TO_USD);
    this.grossLeft = gross;
    this.feeLeft = gross - net;
    this.unitsLeft = sell.size;
  }

  /** Gross and net proceeds of the next slice of `size` units. */
  take(size: bigint): { proceeds: bigint; netProceeds: bigint } {
    const last = size >= this.unitsLeft;
    const proceeds = last ? this.grossLeft : divHalfEven(this.grossLeft * size, this.unitsLeft);
    const fee = last ? this.feeLeft : divHalfEven(this.feeLeft * size, this.unitsLeft);
    this.grossLeft -= proceeds;
    this.feeLeft -= fee;
    this.unitsLeft -= size;
    return { proceeds, netProceeds: proceeds - fee };
  }
}
