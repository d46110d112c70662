/**
 * The full rebuild (nightly): recompute every symbol from the trade source, compare with
 * what the version has stored, apply only the differences and report them as drift.
 *
 * One connection, one transaction: trades stream through a cursor (bounded memory) while
 * the same connection writes; the run commits all of its work or none of it.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import {
  ALLOCATION_TARGET,
  allocationValues,
  deleteAllocationsById,
  deleteSellsOfOtherSymbols,
  readStoredAllocations,
} from '../db/allocations.ts';
import { bulkInsert } from '../db/bulk.ts';
import { type DeferredIndexes, deferIndexesOfEmptyTables } from '../db/deferred-indexes.ts';
import {
  allocationDigest,
  lotDigest,
  type SymbolDigest,
  sameDigest,
  storedAllocationDigests,
  storedLotDigests,
} from '../db/digests.ts';
import type { LotText } from '../db/lots.ts';
import { deleteLotsById, LOT_TARGET, lotText, lotValues, readStoredLots, upsertLots } from '../db/lots.ts';
import { acquire, type Database, discard } from '../db/pool.ts';
import {
  deleteProgress,
  markFullRebuild,
  registerVersion,
  type SymbolProgress,
  storedSymbols,
  writeProgress,
} from '../db/progress.ts';
import { replaceRejections } from '../db/rejections.ts';
import { RemainingSizeStage } from '../db/remaining-stage.ts';
import {
  emptyCounts,
  failAbandonedRuns,
  insertRun,
  type RunCounts,
  type RunStart,
  recordDetails,
  tryLockVersion,
  unlockVersion,
  updateRun,
} from '../db/run-log.ts';
import { utcText } from '../db/sql.ts';
import {
  checkSourceRow,
  cursorTradeSource,
  hasPosition,
  openCopyTradeSource,
  orphanFills,
  type RejectedTrade,
  readHorizon,
  SOURCE_ORDER,
  type SourceRow,
  TradeCursor,
} from '../db/trades.ts';
import {
  type Allocation,
  allocationRow,
  compareLots,
  formatUsd,
  type Lot,
  realizedPnl,
  SymbolBook,
  type Trade,
} from '../fifo/index.ts';
import { appendAll } from '../util/append.ts';
import { type JobLogger, type JobOptions, REJECTIONS_LOGGED, silentLogger } from './context.ts';
import { failRun, type RunOutcome } from './outcome.ts';
import { assertVersionIsOurs } from './ownership.ts';
import { type AllocationDiff, diffAllocations, diffLots, formatPnlDifference } from './reconcile.ts';
import { remainingSizeUpdatesOf } from './remaining-size.ts';

export interface FullRebuildOptions extends JobOptions {
  /** Compute and report the drift, change nothing. @default false */
  readonly dryRun?: boolean;
  /** Rows buffered before a bulk write; memory against round trips. @default 20,000 */
  readonly flushRows?: number;
  /**
   * How long to wait for another run of the version (an incremental run) to release the lock.
   * 0: skip at once, reporting 'skipped'. Above 0: wait up to that long, then fail with
   * LockBusyError, so the nightly run is retried and alarmed on instead of silently missed.
   * @default 0
   */
  readonly lockWaitMs?: number;
}

export class LockBusyError extends Error {
  override name = 'LockBusyError';
}

/** Polling the lock: an incremental run holds it for seconds, so this is never busy long. */
const LOCK_POLL_MS = 500;

export interface FullRebuildResult extends RunOutcome {
  readonly mode: 'full';
  readonly dryRun: boolean;
  readonly trades: number;
  /** Allocation rows the version holds after the run (computed rows in a dry run). */
  readonly allocations: number;
  readonly symbols: number;
  readonly rejectedTrades: number;
  readonly drift: {
    readonly rowsAdded: number;
    readonly rowsRemoved: number;
    readonly rowsChanged: number;
    /** Allocation and lot rows that differed. */
    readonly rows: number;
    /** Σ |Δ pnl| over differing allocation rows, exact decimal text. */
    readonly usd: string;
    readonly lotRows: number;
  };
  /**
   * Changes captured but not consumed when the rebuild took its snapshot: consumed by this
   * run, as an incremental run would, and reported apart, never as drift (README, "Safety").
   */
  readonly pendingApplied: {
    readonly changes: number;
    readonly symbols: number;
    /** Allocation rows they added, removed or changed. */
    readonly rows: number;
    readonly lotRows: number;
    /** Σ |Δ pnl| over those rows, exact decimal text. */
    readonly usd: string;
  };
  readonly realizedPnlUsd: string;
}

/** The changes a snapshot holds: their ids, and per symbol the earliest order_time changed. */
interface PendingChanges {
  readonly ids: string[];
  readonly earliest: Map<string, string>;
}

async function readPendingChanges(q: pg.ClientBase, version: number): Promise<PendingChanges> {
  const { rows } = await q.query<{ id: string; symbol: string; at: string }>(
    `SELECT change_id::text AS id, symbol, ${utcText('order_time')} AS at FROM fifo_trade_changes
     WHERE allocation_version = $1`,
    [version],
  );
  const earliest = new Map<string, string>();
  for (const r of rows) {
    const at = earliest.get(r.symbol);
    if (at === undefined || r.at < at) earliest.set(r.symbol, r.at);
  }
  return { ids: rows.map((r) => r.id), earliest };
}

const FETCH_ROWS = 10_000;

const NO_DIFF: AllocationDiff = {
  insert: [],
  deleteIds: [],
  added: 0,
  removed: 0,
  changed: 0,
  pnlDifference: 0n,
  pendingRows: 0,
  pendingPnlDifference: 0n,
};

const compareLotTexts = (a: LotText, b: LotText) =>
  compareLots(
    { buyTime: a.buy_time, buyOrderId: a.buy_order_id },
    { buyTime: b.buy_time, buyOrderId: b.buy_order_id },
  );
const FLUSH_ROWS = 20_000;

export async function runFullRebuild(db: Database, options: FullRebuildOptions): Promise<FullRebuildResult> {
  const client = await acquire(db);
  try {
    if (!(await lockWithin(client, options))) {
      if (!options.lockWaitMs) return skipped(client, options);
      const message =
        `busy: another run of version ${options.version} held the lock for the whole ` +
        `${options.lockWaitMs < 1000 ? `${options.lockWaitMs} ms` : `${Math.round(options.lockWaitMs / 1000)} s`} ` +
        'this rebuild may wait';
      if (!options.dryRun) await insertRun(client, runStart(options, randomUUID()), 'failed', message);
      throw new LockBusyError(message);
    }
    try {
      return await fullRebuildLocked(db, client, options);
    } finally {
      await unlockVersion(client, options.version).catch(() => {});
    }
  } finally {
    client.release();
  }
}

/** Takes the version's lock, waiting up to options.lockWaitMs for a run that holds it. */
async function lockWithin(client: pg.ClientBase, options: FullRebuildOptions): Promise<boolean> {
  const deadline = Date.now() + (options.lockWaitMs ?? 0);
  let told = false;
  for (;;) {
    if (await tryLockVersion(client, options.version)) return true;
    if (Date.now() >= deadline) return false;
    if (!told) {
      (options.logger ?? silentLogger).info('another run of this version holds the lock; waiting for it', {
        version: options.version,
        waitMs: options.lockWaitMs,
      });
      told = true;
    }
    await new Promise((done) => setTimeout(done, Math.min(LOCK_POLL_MS, Math.max(0, deadline - Date.now()))));
  }
}

async function skipped(client: pg.ClientBase, options: FullRebuildOptions): Promise<FullRebuildResult> {
  const run = runStart(options, randomUUID());
  const runId = options.dryRun
    ? null
    : await insertRun(client, run, 'skipped', 'busy: another run holds the lock');
  (options.logger ?? silentLogger).info('full rebuild skipped: another run of this version is in progress', {
    version: options.version,
  });
  return { ...emptyResult(options, runId), status: 'skipped' };
}

const runStart = (options: FullRebuildOptions, batchId: string): RunStart => ({
  mode: 'full',
  version: options.version,
  batchId,
  triggeredBy: options.triggeredBy ?? 'cli',
  dryRun: options.dryRun ?? false,
});

function emptyResult(options: FullRebuildOptions, runId: string | null): FullRebuildResult {
  return {
    mode: 'full',
    status: 'completed',
    runId,
    version: options.version,
    dryRun: options.dryRun ?? false,
    durationMs: 0,
    trades: 0,
    allocations: 0,
    symbols: 0,
    rejectedTrades: 0,
    drift: { rowsAdded: 0, rowsRemoved: 0, rowsChanged: 0, rows: 0, usd: '0', lotRows: 0 },
    pendingApplied: { changes: 0, symbols: 0, rows: 0, lotRows: 0, usd: '0' },
    realizedPnlUsd: '0',
  };
}

/** The rebuild proper; the caller holds the version's lock on `client`. */
export async function fullRebuildLocked(
  db: Database,
  client: pg.PoolClient,
  options: FullRebuildOptions,
): Promise<FullRebuildResult> {
  const started = Date.now();
  const logger = options.logger ?? silentLogger;
  const dryRun = options.dryRun ?? false;
  const { version } = options;
  const batchId = randomUUID();
  let runId: string | null = null;
  if (!dryRun) {
    await assertVersionIsOurs(client, version, options.takeOverVersion ?? false, logger);
    await failAbandonedRuns(client, version);
    // Registered (and committed) before the snapshot: every later change is captured for it.
    await registerVersion(client, version);
    runId = await insertRun(client, runStart(options, batchId), 'running');
  }
  logger.info('full rebuild started', { version, dryRun, runId });

  const counts = emptyCounts();
  let pendingApplied: FullRebuildResult['pendingApplied'] = emptyResult(options, null).pendingApplied;
  const state = new RebuildState(db, client, version, batchId, dryRun, options.flushRows ?? FLUSH_ROWS);
  let reader: pg.PoolClient | null = null;
  try {
    await client.query('BEGIN');
    const horizon = await readHorizon(client);
    const order = `symbol COLLATE "C", ${SOURCE_ORDER}`;
    // On a real server the trades stream in with COPY on a second connection (same snapshot),
    // so PostgreSQL reads while the engine computes; PGlite has one session, so a cursor.
    // The pending changes are read in the trades' own snapshot: exactly the changes those
    // trades include, so none is mistaken for drift and none is consumed unseen.
    reader = db.supportsCopy ? await acquire(db) : null;
    let pending: PendingChanges = { ids: [], earliest: new Map() };
    const source = reader
      ? await openCopyTradeSource(client, reader, order, async (snapshot) => {
          pending = await readPendingChanges(snapshot, version);
        })
      : await (async () => {
          pending = await readPendingChanges(client, version);
          return cursorTradeSource(
            await TradeCursor.open(client, 'fifo_full_trades', '', [], order),
            FETCH_ROWS,
          );
        })();
    state.pending = pending.earliest;
    const leftover = new Set(await storedSymbols(client, version));
    // With nothing stored there is nothing to drift from: this is the version's first build.
    const firstBuild = leftover.size === 0;
    if (!firstBuild) state.startDigests();
    let deferred: DeferredIndexes | null = null;
    if (!dryRun) {
      await state.openStage();
      if (firstBuild) deferred = await bulkLoadMode(client, logger);
    }
    let symbol: SymbolRun | null = null;
    for (;;) {
      const rows = await source.next();
      if (rows.length === 0) break;
      for (const row of rows) {
        if (symbol === null || symbol.symbol !== row.symbol) {
          if (symbol) await state.finishSymbol(symbol, counts);
          symbol = new SymbolRun(row.symbol, new SymbolBook(row.symbol, [], options.engine), horizon);
          leftover.delete(row.symbol);
        }
        symbol.add(row, counts, state.rejected);
      }
      state.tradesRead += rows.length;
      options.onProgress?.(state.tradesRead);
    }
    await source.close();
    if (symbol) await state.finishSymbol(symbol, counts);
    for (const gone of leftover) await state.removeSymbol(gone, counts);
    await state.flush();
    await state.settled();
    if (deferred) {
      logger.info('building the indexes of fifo_allocations and fifo_lots', { indexes: deferred.count });
      await deferred.restore();
    }
    await state.applyStage();
    appendAll(state.rejected, await orphanFills(client));

    if (!dryRun) {
      await replaceRejections(client, state.rejected);
      await client.query('DELETE FROM fifo_trade_changes WHERE change_id = ANY($1::bigint[])', [pending.ids]);
      counts.changesConsumed = pending.ids.length;
      await markFullRebuild(client, version);
    }
    counts.tradesRejected = state.rejected.length;
    counts.driftUsd = formatPnlDifference(state.pnlDifference);
    if (firstBuild) {
      Object.assign(counts, { driftRowsAdded: 0, driftRowsRemoved: 0, driftRowsChanged: 0, driftUsd: '0' });
      state.lotDriftRows = 0;
      state.pendingRows = 0;
      state.pendingLotRows = 0;
      state.pendingPnl = 0n;
    }
    counts.totalPnl = formatUsd(state.realizedPnl);
    pendingApplied = {
      changes: pending.ids.length,
      symbols: pending.earliest.size,
      rows: state.pendingRows,
      lotRows: state.pendingLotRows,
      usd: formatPnlDifference(state.pendingPnl),
    };
    if (runId) {
      await updateRun(client, runId, counts, { status: 'completed' });
      await recordDetails(client, runId, { pending_applied: pendingApplied });
    }
    await client.query(dryRun ? 'ROLLBACK' : 'COMMIT');
  } catch (error) {
    // The reader may be mid-COPY inside its snapshot's transaction: close it, never pool it.
    if (reader) discard(reader);
    await failRun(db, client, runId, counts, error, logger, 'full rebuild');
    throw error;
  } finally {
    reader?.release();
  }
  logRejections(logger, state.rejected);
  const driftRows =
    counts.driftRowsAdded + counts.driftRowsRemoved + counts.driftRowsChanged + state.lotDriftRows;
  const result: FullRebuildResult = {
    mode: 'full',
    status: 'completed',
    runId,
    version,
    dryRun,
    durationMs: Date.now() - started,
    trades: state.tradesRead,
    allocations: state.allocationCount,
    symbols: counts.symbols.size,
    rejectedTrades: state.rejected.length,
    drift: {
      rowsAdded: counts.driftRowsAdded,
      rowsRemoved: counts.driftRowsRemoved,
      rowsChanged: counts.driftRowsChanged,
      rows: driftRows,
      usd: counts.driftUsd,
      lotRows: state.lotDriftRows,
    },
    pendingApplied,
    realizedPnlUsd: counts.totalPnl,
  };
  (driftRows > 0 ? logger.warn : logger.info).call(logger, 'full rebuild completed', {
    ...result,
    drift: result.drift,
  });
  return result;
}

/** A first build into empty tables loads without indexes and builds them at the end. */
async function bulkLoadMode(client: pg.ClientBase, logger: JobLogger): Promise<DeferredIndexes | null> {
  const outcome = await deferIndexesOfEmptyTables(client);
  if ('kept' in outcome) {
    logger.info('first build with indexes kept', { reason: outcome.kept });
    return null;
  }
  logger.info('first build into empty tables: indexes are built after the load', {
    indexes: outcome.deferred.count,
  });
  return outcome.deferred;
}

export function logRejections(
  logger: JobOptions['logger'] & object,
  rejected: readonly RejectedTrade[],
): void {
  for (const r of rejected.slice(0, REJECTIONS_LOGGED)) {
    logger.warn('trade rejected', { order_id: r.orderId, symbol: r.symbol, reason: r.reason });
  }
  if (rejected.length > REJECTIONS_LOGGED) {
    logger.warn(`${rejected.length - REJECTIONS_LOGGED} more trades rejected; see fifo_rejected_trades`);
  }
}

/** One symbol's trades fed through its book. */
class SymbolRun {
  readonly allocations: Allocation[] = [];
  readonly buys: { orderId: string; stored: string | null }[] = [];
  last: SourceRow | null = null;

  constructor(
    readonly symbol: string,
    readonly book: SymbolBook,
    private readonly horizon: string,
  ) {}

  add(row: SourceRow, counts: RunCounts, rejected: RejectedTrade[]): void {
    if (hasPosition(row)) this.last = row;
    const checked = checkSourceRow(row, this.horizon);
    if ('rejected' in checked) {
      rejected.push(checked.rejected);
      return;
    }
    const trade: Trade = checked.trade;
    this.book.apply(trade, this.allocations);
    if (trade.side === 'buy') {
      counts.buysProcessed++;
      this.buys.push({ orderId: trade.orderId, stored: row.remaining_size });
    } else {
      counts.sellsProcessed++;
    }
  }

  lots(): Lot[] {
    return [...this.book.takeClosedLots(), ...this.book.openLots()];
  }
}

/** One flush's writes. */
interface PendingWrites {
  readonly inserts: (string | null)[][];
  readonly deleteIds: string[];
  readonly lotInserts: (string | null)[][];
  readonly lotUpserts: LotText[];
  readonly lotDeletes: string[];
  readonly remaining: { orderId: string; remaining: string }[];
  readonly progress: SymbolProgress[];
  readonly emptied: string[];
  readonly movedSells: { symbol: string; sells: string[] }[];
}

/** Pending writes and totals across symbols, flushed in bulk. */
class RebuildState {
  tradesRead = 0;
  allocationCount = 0;
  lotDriftRows = 0;
  pnlDifference = 0n;
  /** Per symbol, the earliest order_time of its changes in the snapshot (see diffAllocations). */
  pending: ReadonlyMap<string, string> = new Map();
  pendingRows = 0;
  pendingLotRows = 0;
  pendingPnl = 0n;
  realizedPnl = 0n;
  readonly rejected: RejectedTrade[] = [];
  private inserts: (string | null)[][] = [];
  private deleteIds: string[] = [];
  private lotInserts: (string | null)[][] = [];
  private lotUpserts: ReturnType<typeof lotText>[] = [];
  private lotDeletes: string[] = [];
  private remaining: { orderId: string; remaining: string }[] = [];
  private progress: SymbolProgress[] = [];
  private emptied: string[] = [];
  private movedSells: { symbol: string; sells: string[] }[] = [];
  private inFlight: Promise<void> = Promise.resolve();
  private counts: RunCounts | null = null;
  /** Where remaining sizes wait for the one UPDATE at the end; null in a dry run. */
  private stage: RemainingSizeStage | null = null;
  /** Stored digests per symbol; null on a first build, where nothing is stored. */
  private digests: Promise<{
    allocations: Map<string, SymbolDigest>;
    lots: Map<string, SymbolDigest>;
  } | null> = Promise.resolve(null);

  /** Opens the remaining-size stage inside the run's transaction (not for a dry run). */
  async openStage(): Promise<void> {
    this.stage = await RemainingSizeStage.open(this.client, this.db.supportsCopy);
  }

  /** Writes the staged remaining sizes; call after the last write. */
  async applyStage(): Promise<void> {
    await this.stage?.apply();
  }

  /** Starts computing the stored digests on the server; awaited per symbol. */
  startDigests(): void {
    const digests = (async () => ({
      allocations: await storedAllocationDigests(this.client, this.version),
      lots: await storedLotDigests(this.client, this.version),
    }))();
    // Awaited in finishSymbol; a failure surfaces there.
    digests.catch(() => {});
    this.digests = digests;
  }

  constructor(
    private readonly db: Database,
    private readonly client: pg.ClientBase,
    private readonly version: number,
    private readonly batchId: string,
    private readonly dryRun: boolean,
    private readonly flushRows: number,
  ) {}

  async finishSymbol(run: SymbolRun, counts: RunCounts): Promise<void> {
    const computed = run.allocations.map(allocationRow);
    const lots = run.lots();
    const lotTexts = lots.map(lotText);
    this.realizedPnl += realizedPnl(run.allocations);
    this.allocationCount += computed.length;
    counts.symbols.add(run.symbol);
    counts.allocationsCreated += computed.length;

    const digests = await this.digests;
    const unchanged =
      digests !== null && sameDigest(digests.allocations.get(run.symbol), allocationDigest(computed));
    // A first build has nothing stored to compare with: every row is new, and no drift.
    const diff =
      digests === null
        ? { ...NO_DIFF, insert: computed }
        : unchanged
          ? NO_DIFF
          : diffAllocations(
              computed,
              await this.readStored(run.symbol),
              this.pending.get(run.symbol) ?? null,
            );
    counts.driftRowsAdded += diff.added;
    counts.driftRowsRemoved += diff.removed;
    counts.driftRowsChanged += diff.changed;
    this.pnlDifference += diff.pnlDifference;
    this.pendingRows += diff.pendingRows;
    this.pendingPnl += diff.pendingPnlDifference;
    for (const row of diff.insert) this.inserts.push(allocationValues(row, this.version, this.batchId));
    appendAll(this.deleteIds, diff.deleteIds);
    if (diff.added > 0 && digests !== null) {
      // A sell new to this symbol may still be stored under the symbol it moved from.
      this.movedSells.push({
        symbol: run.symbol,
        sells: [...new Set(diff.insert.map((r) => r.sell_order_id!))],
      });
      this.counts = counts;
    }

    const lotsUnchanged =
      digests !== null &&
      sameDigest(digests.lots.get(run.symbol), lotDigest([...lotTexts].sort(compareLotTexts)));
    const storedLots = lotsUnchanged || digests === null ? [] : await this.readStoredLots(run.symbol);
    if (lotsUnchanged) {
      // nothing to write
    } else if (digests === null) {
      // First build: nothing stored, so plain inserts (COPY) cannot conflict.
      for (const lot of lotTexts) this.lotInserts.push(lotValues(lot, this.version, this.batchId));
      this.lotDriftRows += lotTexts.length;
    } else {
      const lotDiff = diffLots(lotTexts, storedLots);
      appendAll(this.lotUpserts, lotDiff.upsert);
      appendAll(this.lotDeletes, lotDiff.deleteIds);
      // A pending change moves the lots it reaches; which of them were wrong before it
      // cannot be told apart, so a pending symbol's lots are applied, not counted as drift.
      const lotRows = lotDiff.added + lotDiff.removed + lotDiff.changed;
      if (this.pending.has(run.symbol)) this.pendingLotRows += lotRows;
      else this.lotDriftRows += lotRows;
    }
    appendAll(
      this.remaining,
      remainingSizeUpdatesOf(run.buys, new Map(lotTexts.map((t) => [t.buy_order_id, t.remaining_size]))),
    );
    if (run.last) {
      this.progress.push({
        symbol: run.symbol,
        last: {
          time: run.last.order_time,
          side: run.last.side === 'buy' ? 'buy' : 'sell',
          orderId: run.last.order_id,
        },
      });
    }
    if (this.inserts.length + this.lotInserts.length + this.lotUpserts.length >= this.flushRows)
      await this.flush();
  }

  /** Stored rows are read only after the write in flight, which may touch them, is done. */
  private async readStored(symbol: string) {
    await this.settled();
    return readStoredAllocations(this.client, this.version, symbol);
  }

  private async readStoredLots(symbol: string) {
    await this.settled();
    return readStoredLots(this.client, this.version, symbol);
  }

  /**
   * A symbol with stored rows but no trades any more: everything it had is drift, unless a
   * pending change (its trades deleted or moved) explains it.
   */
  async removeSymbol(symbol: string, counts: RunCounts): Promise<void> {
    const stored = await this.readStored(symbol);
    const diff = diffAllocations([], stored, this.pending.get(symbol) ?? null);
    counts.driftRowsRemoved += diff.removed;
    this.pnlDifference += diff.pnlDifference;
    this.pendingRows += diff.pendingRows;
    this.pendingPnl += diff.pendingPnlDifference;
    appendAll(this.deleteIds, diff.deleteIds);
    const lots = await this.readStoredLots(symbol);
    appendAll(
      this.lotDeletes,
      lots.map((l) => l.buy_order_id),
    );
    if (this.pending.has(symbol)) this.pendingLotRows += lots.length;
    else this.lotDriftRows += lots.length;
    this.emptied.push(symbol);
  }

  /**
   * Hands the buffered rows to the connection and returns without waiting for PostgreSQL to
   * ingest them, so the engine computes the next symbols meanwhile (one write in flight at
   * most). Reads of stored rows wait for it first: see `settled`.
   */
  async flush(): Promise<void> {
    await this.settled();
    const batch: PendingWrites = {
      inserts: this.inserts,
      deleteIds: this.deleteIds,
      lotInserts: this.lotInserts,
      lotUpserts: this.lotUpserts,
      lotDeletes: this.lotDeletes,
      remaining: this.remaining,
      progress: this.progress,
      emptied: this.emptied,
      movedSells: this.movedSells,
    };
    this.inserts = [];
    this.deleteIds = [];
    this.lotInserts = [];
    this.lotUpserts = [];
    this.lotDeletes = [];
    this.remaining = [];
    this.progress = [];
    this.emptied = [];
    this.movedSells = [];
    if (this.dryRun) return;
    this.inFlight = this.write(batch);
    // Awaited by the next flush, a read, or the end of the run; never left unhandled.
    this.inFlight.catch(() => {});
  }

  /** Waits for the write in flight, if any, and rethrows its error. */
  async settled(): Promise<void> {
    await this.inFlight;
  }

  private async write(w: PendingWrites): Promise<void> {
    // Deletes first: a changed row is deleted and inserted again under the same unique key.
    await deleteAllocationsById(this.client, w.deleteIds);
    for (const moved of w.movedSells) {
      const pnls = await deleteSellsOfOtherSymbols(this.client, this.version, moved.symbol, moved.sells);
      // A sell that moved symbol has a change in both: pending, unless change capture missed it.
      const pending = this.pending.has(moved.symbol);
      if (pending) this.pendingRows += pnls.length;
      else if (this.counts) this.counts.driftRowsRemoved += pnls.length;
      for (const pnl of pnls) {
        if (pending) this.pendingPnl += pnl < 0n ? -pnl : pnl;
        else this.pnlDifference += pnl < 0n ? -pnl : pnl;
      }
    }
    await bulkInsert(this.client, this.db.supportsCopy, ALLOCATION_TARGET, w.inserts);
    await deleteLotsById(this.client, this.version, w.lotDeletes);
    await bulkInsert(this.client, this.db.supportsCopy, LOT_TARGET, w.lotInserts);
    await upsertLots(this.client, this.version, w.lotUpserts, this.batchId);
    await this.stage?.add(w.remaining);
    await writeProgress(this.client, this.version, w.progress);
    await deleteProgress(this.client, this.version, w.emptied);
  }
}
