/**
 * Choosing lots, kept apart from computing gains (as in rp2): FIFO takes the oldest open
 * lot first and moves on only when it is empty. Nothing here knows about money.
 */
import type { Lot } from './types.ts';

export interface PlannedSlice {
  readonly lot: Lot;
  readonly size: bigint;
  /** True when this slice takes everything the lot has left. */
  readonly emptiesLot: boolean;
}

export interface LotSelection {
  readonly slices: PlannedSlice[];
  /** The part of the sell that no open lot covers. */
  readonly uncovered: bigint;
}

/** The open lots of one symbol, oldest first. */
export class OpenLots {
  private lots: Lot[] = [];
  private head = 0;

  push(lot: Lot): void {
    this.lots.push(lot);
  }

  get size(): number {
    return this.lots.length - this.head;
  }

  toArray(): Lot[] {
    return this.lots.slice(this.head);
  }

  /** Plans how `size` is taken, oldest lot first, without changing any lot. */
  select(size: bigint): LotSelection {
    const slices: PlannedSlice[] = [];
    let needed = size;
    for (let i = this.head; i < this.lots.length && needed > 0n; i++) {
      const lot = this.lots[i]!;
      const take = lot.remaining <= needed ? lot.remaining : needed;
      slices.push({ lot, size: take, emptiesLot: take === lot.remaining });
      needed -= take;
    }
    return { slices, uncovered: needed };
  }

  /** Drops the emptied lots at the front and returns them. */
  dropEmpty(): Lot[] {
    const start = this.head;
    while (this.head < this.lots.length && this.lots[this.head]!.remaining === 0n) this.head++;
    const dropped = this.lots.slice(start, this.head);
    // Compact now and then so a long-lived book does not keep every closed lot reachable.
    if (this.head > 1024 && this.head * 2 > this.lots.length) {
      this.lots = this.lots.slice(this.head);
      this.head = 0;
    }
    return dropped;
  }
}
