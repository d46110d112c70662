/**
 * The unit of work of every job: one symbol, resumed from its open lots and position, fed its
 * trades from there in processing order, computed purely. It returns values and writes
 * nothing; `SymbolWriter` (symbol-writer.ts) applies them. The full rebuild resumes every
 * symbol from nothing; the incremental run resumes it from the lots left before its earliest
 * change; a partition of a partitioned rebuild is a full rebuild of some symbols. This file
 * holds the one per-trade loop of the jobs (README, "The FIFO rules").
 */
import type { StoredAllocation } from '../db/allocations.ts';
import { checkSourceRow, hasPosition, type RejectedTrade, type SourceRow } from '../db/trades.ts';
import {
  type Allocation,
  type AllocationRow,
  allocationRow,
  type EngineOptions,
  type Lot,
  type LotRow,
  lotRow,
  realizedPnl,
  SymbolBook,
  type TradeKey,
} from '../fifo/index.ts';
import { type AllocationDiff, diffAllocations, diffLots, type LotDiff } from './reconcile.ts';
import { type RemainingUpdate, remainingSizeUpdatesOf } from './remaining-size.ts';

/** Where a symbol resumes: the lots open before its first trade to process. */
export interface SymbolResume {
  /** Open lots (remaining > 0) as of the resume point; empty for a symbol built from nothing. */
  readonly lots: readonly Lot[];
  /**
   * Buys among `lots` whose remaining size was just given back (incremental replay): their
   * trade_records.remaining_size mirror must be rewritten even if no trade takes from them.
   */
  readonly givenBack?: ReadonlySet<string>;
}

/** Everything one symbol's computation yields. */
export interface SymbolOutcome {
  readonly symbol: string;
  /** Trade source rows read, rejected ones included. */
  readonly trades: number;
  readonly buys: number;
  readonly sells: number;
  readonly allocations: AllocationRow[];
  /** Σ pnl of `allocations`, USD_SCALE. */
  readonly realizedPnl: bigint;
  /**
   * Every lot whose state differs from where it resumed, in canonical text: lots opened by
   * these trades, and resumed lots that sells took from. Closed lots included (remaining 0).
   */
  readonly lots: LotRow[];
  /** trade_records.remaining_size values to write (only those that would change). */
  readonly mirror: RemainingUpdate[];
  readonly rejected: RejectedTrade[];
  /** The last row with a position in FIFO order; null when no row had one. */
  readonly last: TradeKey | null;
}

/** One symbol's computation, fed row by row. */
export class SymbolStep {
  private readonly book: SymbolBook;
  private readonly allocations: Allocation[] = [];
  /** Buys processed, with the mirror value the trade source showed. */
  private readonly buysSeen: { orderId: string; stored: string | null }[] = [];
  private readonly resumed: Map<string, bigint>;
  private readonly rejected: RejectedTrade[] = [];
  private last: TradeKey | null = null;
  private trades = 0;
  private sells = 0;

  constructor(
    readonly symbol: string,
    private readonly resume: SymbolResume,
    /** Rows dated after this are rejected as in the future (db/trades.ts readHorizon). */
    private readonly horizon: string,
    engine: EngineOptions = {},
  ) {
    this.resumed = new Map(resume.lots.map((lot) => [lot.buyOrderId, lot.remaining]));
    this.book = new SymbolBook(symbol, resume.lots, engine);
  }

  /** The next trade source row of this symbol, in processing order. */
  add(row: SourceRow): void {
    this.trades++;
    if (hasPosition(row)) {
      this.last = { time: row.order_time, side: row.side === 'buy' ? 'buy' : 'sell', orderId: row.order_id };
    }
    const checked = checkSourceRow(row, this.horizon);
    if ('rejected' in checked) {
      this.rejected.push(checked.rejected);
      return;
    }
    this.book.apply(checked.trade, this.allocations);
    if (checked.trade.side === 'buy')
      this.buysSeen.push({ orderId: row.order_id, stored: row.remaining_size });
    else this.sells++;
  }

  finish(): SymbolOutcome {
    const finalLots = [...this.book.takeClosedLots(), ...this.book.openLots()];
    const lots: LotRow[] = [];
    const rowsByBuy = new Map<string, LotRow>();
    const givenBack = this.resume.givenBack ?? new Set<string>();
    const resumedMoved: { orderId: string; stored: null }[] = [];
    for (const lot of finalLots) {
      const before = this.resumed.get(lot.buyOrderId);
      const changed = before === undefined || before !== lot.remaining;
      if (!changed && !givenBack.has(lot.buyOrderId)) continue;
      const text = lotRow(lot);
      if (changed) lots.push(text);
      rowsByBuy.set(lot.buyOrderId, text);
      // A resumed lot's mirror value is not known here: written whenever it may have moved.
      if (before !== undefined) resumedMoved.push({ orderId: lot.buyOrderId, stored: null });
    }
    return {
      symbol: this.symbol,
      trades: this.trades,
      buys: this.buysSeen.length,
      sells: this.sells,
      allocations: this.allocations.map(allocationRow),
      realizedPnl: realizedPnl(this.allocations),
      lots,
      mirror: remainingSizeUpdatesOf([...this.buysSeen, ...resumedMoved], rowsByBuy),
      rejected: this.rejected,
      last: this.last,
    };
  }
}

/** What the stored rows of a symbol hold, to compare a rebuilt symbol with. */
export interface StoredSymbol {
  readonly allocations: readonly StoredAllocation[];
  readonly lots: readonly LotRow[];
  /**
   * The earliest order_time of the symbol's changes not yet consumed, or null: rows of sells
   * from then on differ because of those changes and are applied, not counted as drift.
   */
  readonly pendingFrom: string | null;
}

export interface SymbolDrift {
  readonly allocations: AllocationDiff;
  readonly lots: LotDiff;
  /** Lot rows that differ; pending when the symbol has pending changes (which move lots). */
  readonly lotRows: number;
  readonly lotRowsPending: boolean;
}

/**
 * A rebuilt symbol against its stored rows (pure). A pending change moves the lots it
 * reaches, and which of them were wrong before it cannot be told apart, so a pending
 * symbol's lot differences are applied and reported as pending, not as drift.
 */
export function driftOf(
  outcome: Pick<SymbolOutcome, 'allocations' | 'lots'>,
  stored: StoredSymbol,
): SymbolDrift {
  const allocations = diffAllocations(outcome.allocations, stored.allocations, stored.pendingFrom);
  const lots = diffLots(outcome.lots, stored.lots);
  return {
    allocations,
    lots,
    lotRows: lots.added + lots.removed + lots.changed,
    lotRowsPending: stored.pendingFrom !== null,
  };
}
