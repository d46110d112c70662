/**
 * Applies what SymbolStep computed (symbol-step.ts): allocation and lot rows, the
 * remaining_size mirror and each symbol's progress, buffered and written in bulk on the job's
 * connection inside the job's transaction. It only writes: what to write, and what it means
 * for drift, is decided by the job that calls it.
 *
 * A flush hands the buffered rows to the connection and returns without waiting for
 * PostgreSQL to ingest them, so the engine computes the next symbols meanwhile (one write in
 * flight at most). Anything that reads stored rows on the same connection awaits `settled()`.
 */
import type pg from 'pg';
import { ALLOCATION_TARGET, allocationValues, deleteAllocationsById } from '../db/allocations.ts';
import { bulkInsert } from '../db/bulk.ts';
import { deleteLotsById, LOT_TARGET, lotValues, upsertLots } from '../db/lots.ts';
import { deleteProgress, type SymbolProgress, writeProgress } from '../db/progress.ts';
import { RemainingSizeStage } from '../db/remaining-stage.ts';
import type { AllocationRow, LotRow, TradeKey } from '../fifo/index.ts';
import { appendAll } from '../util/append.ts';
import type { RemainingUpdate } from './remaining-size.ts';

/** Rows buffered before a bulk write: memory against round trips. */
export const FLUSH_ROWS = 20_000;

interface Buffered {
  inserts: (string | null)[][];
  deleteIds: string[];
  lotInserts: (string | null)[][];
  lotUpserts: LotRow[];
  lotDeletes: string[];
  mirror: RemainingUpdate[];
  progress: SymbolProgress[];
  progressDeletes: string[];
}

const emptyBuffer = (): Buffered => ({
  inserts: [],
  deleteIds: [],
  lotInserts: [],
  lotUpserts: [],
  lotDeletes: [],
  mirror: [],
  progress: [],
  progressDeletes: [],
});

export interface SymbolWriterOptions {
  readonly version: number;
  /** allocation_batch_id of every row written. */
  readonly batchId: string;
  /** COPY on a real server; batched INSERT ... unnest on PGlite. */
  readonly supportsCopy: boolean;
  /** Write nothing (a dry run). @default false */
  readonly dryRun?: boolean;
  /** @default FLUSH_ROWS */
  readonly flushRows?: number;
}

export class SymbolWriter {
  private buffer = emptyBuffer();
  private inFlight: Promise<void> = Promise.resolve();

  private constructor(
    private readonly client: pg.ClientBase,
    private readonly options: SymbolWriterOptions,
    /** Where mirror values wait for the one UPDATE at close; null in a dry run. */
    private readonly stage: RemainingSizeStage | null,
  ) {}

  /** Opens a writer inside the caller's transaction. */
  static async open(client: pg.ClientBase, options: SymbolWriterOptions): Promise<SymbolWriter> {
    const stage = options.dryRun ? null : await RemainingSizeStage.open(client, options.supportsCopy);
    return new SymbolWriter(client, options, stage);
  }

  insertAllocations(rows: readonly AllocationRow[]): void {
    const { version, batchId } = this.options;
    for (const row of rows) this.buffer.inserts.push(allocationValues(row, version, batchId));
  }

  deleteAllocations(ids: readonly string[]): void {
    appendAll(this.buffer.deleteIds, ids);
  }

  /** Plain inserts (COPY): only for lots nothing stored can conflict with. */
  insertLots(lots: readonly LotRow[]): void {
    const { version, batchId } = this.options;
    for (const lot of lots) this.buffer.lotInserts.push(lotValues(lot, version, batchId));
  }

  upsertLots(lots: readonly LotRow[]): void {
    appendAll(this.buffer.lotUpserts, lots);
  }

  deleteLots(buyOrderIds: readonly string[]): void {
    appendAll(this.buffer.lotDeletes, buyOrderIds);
  }

  mirror(updates: readonly RemainingUpdate[]): void {
    appendAll(this.buffer.mirror, updates);
  }

  /** The symbol's position after this run; null: it has no trade with a position any more. */
  progress(symbol: string, last: TradeKey | null): void {
    if (last === null) this.buffer.progressDeletes.push(symbol);
    else this.buffer.progress.push({ symbol, last });
  }

  /** Flushes when enough rows are buffered. */
  async maybeFlush(): Promise<void> {
    const b = this.buffer;
    if (
      b.inserts.length + b.lotInserts.length + b.lotUpserts.length >=
      (this.options.flushRows ?? FLUSH_ROWS)
    ) {
      await this.flush();
    }
  }

  /** Starts writing the buffered rows (after the write in flight, if any). */
  async flush(): Promise<void> {
    await this.settled();
    const batch = this.buffer;
    this.buffer = emptyBuffer();
    if (this.options.dryRun) return;
    this.inFlight = this.write(batch);
    // Awaited by the next flush, a read, or close; never left unhandled.
    this.inFlight.catch(() => {});
  }

  /** Waits for the write in flight, if any, and rethrows its error. */
  async settled(): Promise<void> {
    await this.inFlight;
  }

  /** Writes everything buffered, then the staged mirror values. Returns the mirror rows updated. */
  async close(): Promise<number> {
    await this.flush();
    await this.settled();
    return (await this.stage?.apply()) ?? 0;
  }

  /** Stages the mirror of buys another program rewrote (see RemainingSizeStage.addNotedWrites). */
  async restoreNotedMirrorWrites(): Promise<void> {
    await this.settled();
    await this.stage?.addNotedWrites(this.options.version);
  }

  private async write(w: Buffered): Promise<void> {
    const { client } = this;
    const { version, batchId, supportsCopy } = this.options;
    // Deletes first: a changed row is deleted and inserted again under the same unique key.
    await deleteAllocationsById(client, w.deleteIds);
    await bulkInsert(client, supportsCopy, ALLOCATION_TARGET, w.inserts);
    await deleteLotsById(client, version, w.lotDeletes);
    await bulkInsert(client, supportsCopy, LOT_TARGET, w.lotInserts);
    await upsertLots(client, version, w.lotUpserts, batchId);
    await this.stage?.add(w.mirror);
    await writeProgress(client, version, w.progress);
    await deleteProgress(client, version, w.progressDeletes);
  }
}
