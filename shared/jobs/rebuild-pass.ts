/**
 * One rebuild pass: every symbol of a scope (all of them, or a partition's) recomputed from
 * its trades with SymbolStep, compared with what the version stores, and only the differences
 * written (SymbolWriter). It runs inside the caller's open transaction on `client`, and
 * commits nothing: the single-process rebuild (full-rebuild.ts) and a partition
 * (partitions/partition.ts) decide what commits with it.
 *
 * Drift is what differs and no pending change explains: changes captured but not consumed
 * when the pass took its snapshot are read in the trades' own snapshot, applied as an
 * incremental run would and reported apart (README, "When something looks wrong").
 */
import type pg from 'pg';
import { deleteSellsOfOtherSymbols, readStoredAllocations } from '../db/allocations.ts';
import { type DeferredIndexes, deferIndexesOfEmptyTables } from '../db/deferred-indexes.ts';
import {
  allocationDigest,
  lotDigest,
  type SymbolDigest,
  type SymbolScope,
  sameDigest,
  storedAllocationDigests,
  storedLotDigests,
} from '../db/digests.ts';
import { readStoredLots } from '../db/lots.ts';
import { acquire, type Database, discard } from '../db/pool.ts';
import { storedSymbols } from '../db/progress.ts';
import { emptyCounts, type RunCounts } from '../db/run-log.ts';
import { utcText } from '../db/sql.ts';
import {
  cursorTradeSource,
  openCopyTradeSource,
  type RejectedTrade,
  readHorizon,
  SOURCE_ORDER,
  TradeCursor,
  type TradeSource,
} from '../db/trades.ts';
import { compareLots, type EngineOptions, type LotRow } from '../fifo/index.ts';
import type { JobLogger } from './context.ts';
import { lockSymbolsOfSells } from './partitions/symbol-locks.ts';
import { driftOf, type SymbolOutcome, SymbolStep } from './symbol-step.ts';
import type { SymbolWriter } from './symbol-writer.ts';

export interface RebuildPassOptions {
  readonly version: number;
  /** Only these symbols; null: every symbol of the trade source and of the version. */
  readonly scope: SymbolScope;
  readonly dryRun: boolean;
  /** Drop the indexes of empty tables and build them after the load (single process only). */
  readonly deferIndexes: boolean;
  /**
   * Whether the version stored nothing when the run began: then nothing a pass writes is
   * drift. A partition cannot tell from its own symbols (others may have committed since), so
   * its plan says. @default whether the scope stores nothing
   */
  readonly versionWasEmpty?: boolean;
  readonly engine?: EngineOptions;
  readonly logger: JobLogger;
  readonly onProgress?: (tradesRead: number) => void;
}

/** What a pass found and did; the caller logs it and commits or rolls back. */
export interface RebuildPassResult {
  readonly counts: RunCounts;
  readonly trades: number;
  readonly allocations: number;
  /** Drift (rows no pending change explains), by kind; lot rows apart. */
  readonly lotDriftRows: number;
  /** Σ |Δ pnl| of the drift rows, QTY_SCALE. */
  readonly pnlDifference: bigint;
  readonly pending: {
    readonly changes: number;
    readonly symbols: number;
    readonly rows: number;
    readonly lotRows: number;
    /** QTY_SCALE */
    readonly pnl: bigint;
  };
  /** USD_SCALE */
  readonly realizedPnl: bigint;
  readonly rejected: RejectedTrade[];
  /** The change ids the pass applied: consume them when its work commits. */
  readonly pendingIds: string[];
  /** Whether nothing was stored for the scope: nothing to drift from. */
  readonly firstBuild: boolean;
}

/** The changes a snapshot holds: their ids, and per symbol the earliest order_time changed. */
interface PendingChanges {
  readonly ids: string[];
  readonly earliest: Map<string, string>;
}

async function readPendingChanges(
  q: pg.ClientBase,
  version: number,
  scope: SymbolScope,
): Promise<PendingChanges> {
  const { rows } = await q.query<{ id: string; symbol: string; at: string }>(
    `SELECT change_id::text AS id, symbol, ${utcText('order_time')} AS at FROM fifo_trade_changes
     WHERE allocation_version = $1 AND ($2::varchar[] IS NULL OR symbol = ANY($2::varchar[]))`,
    [version, scope],
  );
  const earliest = new Map<string, string>();
  for (const r of rows) {
    const at = earliest.get(r.symbol);
    if (at === undefined || r.at < at) earliest.set(r.symbol, r.at);
  }
  return { ids: rows.map((r) => r.id), earliest };
}

const FETCH_ROWS = 10_000;
const abs = (v: bigint) => (v < 0n ? -v : v);
const byBuyOrder = (a: LotRow, b: LotRow) =>
  compareLots(
    { buyTime: a.buy_time, buyOrderId: a.buy_order_id },
    { buyTime: b.buy_time, buyOrderId: b.buy_order_id },
  );

/** Runs the pass on `client`, whose transaction the caller has begun. */
export async function runRebuildPass(
  db: Database,
  client: pg.PoolClient,
  writer: SymbolWriter,
  options: RebuildPassOptions,
): Promise<RebuildPassResult> {
  const { version, scope, logger } = options;
  const horizon = await readHorizon(client);
  const order = `symbol COLLATE "C", ${SOURCE_ORDER}`;
  // On a real server the trades stream in with COPY on a second connection (same snapshot),
  // so PostgreSQL reads while the engine computes; PGlite has one session, so a cursor.
  // The pending changes are read in the trades' own snapshot: exactly the changes those
  // trades include, so none is mistaken for drift and none is consumed unseen.
  const reader = db.supportsCopy ? await acquire(db) : null;
  let pending: PendingChanges = { ids: [], earliest: new Map() };
  try {
    const source: TradeSource = reader
      ? await openCopyTradeSource(
          client,
          reader,
          order,
          async (snapshot) => {
            pending = await readPendingChanges(snapshot, version, scope);
          },
          scope,
        )
      : await (async () => {
          pending = await readPendingChanges(client, version, scope);
          const where = scope === null ? '' : 'WHERE symbol = ANY($1::varchar[])';
          const cursor = await TradeCursor.open(
            client,
            'fifo_full_trades',
            where,
            scope === null ? [] : [scope],
            order,
          );
          return cursorTradeSource(cursor, FETCH_ROWS);
        })();
    const pass = new Pass(client, writer, options, pending.earliest);
    const leftover = new Set(await storedSymbols(client, version, scope));
    const firstBuild = leftover.size === 0 && (options.versionWasEmpty ?? true);
    if (!firstBuild) pass.startDigests();
    const deferred =
      !options.dryRun && firstBuild && options.deferIndexes ? await bulkLoadMode(client, logger) : null;

    let step: SymbolStep | null = null;
    for (;;) {
      const rows = await source.next();
      if (rows.length === 0) break;
      for (const row of rows) {
        if (step === null || step.symbol !== row.symbol) {
          if (step) await pass.finishSymbol(step.finish());
          step = new SymbolStep(row.symbol, { lots: [] }, horizon, options.engine);
          leftover.delete(row.symbol);
        }
        step.add(row);
      }
      pass.tradesRead += rows.length;
      options.onProgress?.(pass.tradesRead);
    }
    await source.close();
    if (step) await pass.finishSymbol(step.finish());
    for (const gone of leftover) await pass.removeSymbol(gone);
    await writer.close();
    if (deferred) {
      logger.info('building the indexes of fifo_allocations and fifo_lots', { indexes: deferred.count });
      await deferred.restore();
    }
    return pass.result(pending, firstBuild);
  } catch (error) {
    // The reader may be mid-COPY inside its snapshot's transaction: close it, never pool it.
    if (reader) discard(reader);
    throw error;
  } finally {
    reader?.release();
  }
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

/** The pass's totals, and what it hands the writer per symbol. */
class Pass {
  tradesRead = 0;
  readonly counts = emptyCounts();
  private allocationCount = 0;
  private lotDriftRows = 0;
  private pnlDifference = 0n;
  private pendingRows = 0;
  private pendingLotRows = 0;
  private pendingPnl = 0n;
  private realizedPnl = 0n;
  private readonly rejected: RejectedTrade[] = [];
  /** Stored digests per symbol; null on a first build, where nothing is stored. */
  private digests: Promise<{
    allocations: Map<string, SymbolDigest>;
    lots: Map<string, SymbolDigest>;
  } | null> = Promise.resolve(null);

  constructor(
    private readonly client: pg.ClientBase,
    private readonly writer: SymbolWriter,
    private readonly options: RebuildPassOptions,
    /** Per symbol, the earliest order_time of its changes in the snapshot. */
    private readonly pending: ReadonlyMap<string, string>,
  ) {}

  /** Starts computing the stored digests on the server; awaited per symbol. */
  startDigests(): void {
    const { version, scope } = this.options;
    const digests = (async () => ({
      allocations: await storedAllocationDigests(this.client, version, scope),
      lots: await storedLotDigests(this.client, version, scope),
    }))();
    // Awaited in finishSymbol; a failure surfaces there.
    digests.catch(() => {});
    this.digests = digests;
  }

  async finishSymbol(outcome: SymbolOutcome): Promise<void> {
    const { counts, writer } = this;
    const { symbol } = outcome;
    this.realizedPnl += outcome.realizedPnl;
    this.allocationCount += outcome.allocations.length;
    counts.symbols.add(symbol);
    counts.allocationsCreated += outcome.allocations.length;
    counts.buysProcessed += outcome.buys;
    counts.sellsProcessed += outcome.sells;
    for (const r of outcome.rejected) this.rejected.push(r);
    writer.mirror(outcome.mirror);
    if (outcome.last) writer.progress(symbol, outcome.last);

    const digests = await this.digests;
    if (digests === null) {
      // A first build has nothing stored to compare with: every row is new, and no drift.
      writer.insertAllocations(outcome.allocations);
      writer.insertLots(outcome.lots);
      this.lotDriftRows += outcome.lots.length;
      await writer.maybeFlush();
      return;
    }
    const allocationsSame = sameDigest(
      digests.allocations.get(symbol),
      allocationDigest(outcome.allocations),
    );
    const lotsSame = sameDigest(digests.lots.get(symbol), lotDigest([...outcome.lots].sort(byBuyOrder)));
    if (allocationsSame && lotsSame) return;
    // Stored rows are read only after the write in flight, which may touch them, is done.
    await writer.settled();
    const pendingFrom = this.pending.get(symbol) ?? null;
    const stored = allocationsSame
      ? []
      : await readStoredAllocations(this.client, this.options.version, symbol);
    const drift = driftOf(outcome, {
      allocations: stored,
      lots: lotsSame ? [] : await readStoredLots(this.client, this.options.version, symbol),
      pendingFrom,
    });
    if (!allocationsSame) {
      const a = drift.allocations;
      counts.driftRowsAdded += a.added;
      counts.driftRowsRemoved += a.removed;
      counts.driftRowsChanged += a.changed;
      this.pnlDifference += a.pnlDifference;
      this.pendingRows += a.pendingRows;
      this.pendingPnl += a.pendingPnlDifference;
      // A sell this symbol did not store may be stored under the symbol it moved from.
      const storedSells = new Set(stored.map((r) => r.sell_order_id));
      const newSells = a.insert.map((r) => r.sell_order_id!).filter((sell) => !storedSells.has(sell));
      if (newSells.length > 0) await this.takeMovedSells(symbol, newSells);
      writer.deleteAllocations(a.deleteIds);
      writer.insertAllocations(a.insert);
    }
    if (!lotsSame) {
      writer.deleteLots(drift.lots.deleteIds);
      writer.upsertLots(drift.lots.upsert);
      if (drift.lotRowsPending) this.pendingLotRows += drift.lotRows;
      else this.lotDriftRows += drift.lotRows;
    }
    await writer.maybeFlush();
  }

  /**
   * A sell new to this symbol may still be stored under the symbol it moved from: those rows
   * are deleted now, before this symbol's rows are written (the unique key spans symbols, and
   * the other symbol may come later in this pass or sit in another partition). A sell that
   * moved has a change in both symbols: pending, unless change capture missed it. Whichever
   * symbol deletes the old rows counts them, once.
   */
  private async takeMovedSells(symbol: string, sells: readonly string[]): Promise<void> {
    if (this.options.dryRun) return;
    const unique = [...new Set(sells)];
    // A partition writes only symbols it holds (partitions/symbol-locks.ts); the single-process
    // rebuild holds the version's lock, which keeps every other writer out.
    if (this.options.scope !== null)
      await lockSymbolsOfSells(this.client, this.options.version, symbol, unique);
    const pnls = await deleteSellsOfOtherSymbols(this.client, this.options.version, symbol, unique);
    const pending = this.pending.has(symbol);
    for (const pnl of pnls) {
      if (pending) {
        this.pendingRows++;
        this.pendingPnl += abs(pnl);
      } else {
        this.counts.driftRowsRemoved++;
        this.pnlDifference += abs(pnl);
      }
    }
  }

  /**
   * A symbol with stored rows but no trades any more: everything it had is drift, unless a
   * pending change (its trades deleted or moved) explains it.
   */
  async removeSymbol(symbol: string): Promise<void> {
    await this.writer.settled();
    const drift = driftOf(
      { allocations: [], lots: [] },
      {
        allocations: await readStoredAllocations(this.client, this.options.version, symbol),
        lots: await readStoredLots(this.client, this.options.version, symbol),
        pendingFrom: this.pending.get(symbol) ?? null,
      },
    );
    const a = drift.allocations;
    this.counts.driftRowsRemoved += a.removed;
    this.pnlDifference += a.pnlDifference;
    this.pendingRows += a.pendingRows;
    this.pendingPnl += a.pendingPnlDifference;
    this.writer.deleteAllocations(a.deleteIds);
    this.writer.deleteLots(drift.lots.deleteIds);
    // Every stored lot is gone; a symbol with pending changes had them deleted or moved.
    if (this.pending.has(symbol)) this.pendingLotRows += drift.lots.removed;
    else this.lotDriftRows += drift.lots.removed;
    this.writer.progress(symbol, null);
  }

  result(pending: PendingChanges, firstBuild: boolean): RebuildPassResult {
    const counts = this.counts;
    counts.tradesRejected = this.rejected.length;
    if (firstBuild) {
      // Nothing was stored: the lots written are not drift.
      Object.assign(counts, { driftRowsAdded: 0, driftRowsRemoved: 0, driftRowsChanged: 0 });
    }
    return {
      counts,
      trades: this.tradesRead,
      allocations: this.allocationCount,
      lotDriftRows: firstBuild ? 0 : this.lotDriftRows,
      pnlDifference: firstBuild ? 0n : this.pnlDifference,
      pending: {
        changes: pending.ids.length,
        symbols: pending.earliest.size,
        rows: firstBuild ? 0 : this.pendingRows,
        lotRows: firstBuild ? 0 : this.pendingLotRows,
        pnl: firstBuild ? 0n : this.pendingPnl,
      },
      realizedPnl: this.realizedPnl,
      rejected: this.rejected,
      pendingIds: pending.ids,
      firstBuild,
    };
  }
}
