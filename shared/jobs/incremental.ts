/**
 * The incremental run (every 5 minutes): consume the captured changes, symbol by symbol.
 *
 * A symbol whose earliest change comes after its last processed trade is appended: its
 * open lots are loaded and the new trades processed. Otherwise it is replayed from the
 * earliest changed time: later sells' slices are given back to their lots, later lots are
 * dropped, and the trades from that time on are processed again. Each symbol commits its
 * allocations, lots, consumed changes, progress and log counters in one transaction.
 * The cost follows the changes, not the history.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { removeAllocationsFrom } from '../db/allocations.ts';
import { deleteLotsFrom, loadOpenLots } from '../db/lots.ts';
import type { Database } from '../db/pool.ts';
import { lastFullRebuild, readProgress } from '../db/progress.ts';
import { clearRejections, recordRejections } from '../db/rejections.ts';
import { emptyCounts, type RunCounts, updateRun } from '../db/run-log.ts';
import { utcText } from '../db/sql.ts';
import {
  FUTURE_REASON,
  type RejectedTrade,
  readHorizon,
  SOURCE_ORDER,
  SOURCE_SELECT,
  TradeCursor,
} from '../db/trades.ts';
import {
  canonicalTime,
  compareCodePoints,
  formatUsd,
  TimeFormatError,
  type TradeKey,
} from '../fifo/index.ts';
import { appendAll } from '../util/append.ts';
import { ConfigError, type JobOptions, silentLogger } from './context.ts';
import { type FullRebuildResult, fullRebuildLocked } from './full-rebuild.ts';
import type { RunOutcome } from './outcome.ts';
import { assertVersionIsOurs } from './ownership.ts';
import { openPartitionedRun } from './partitions/runs.ts';
import { lockFreeSymbols } from './partitions/symbol-locks.ts';
import { SymbolStep } from './symbol-step.ts';
import { SymbolWriter } from './symbol-writer.ts';
import { logRejections, openRun, recordingFailure, withVersionLock } from './version-run.ts';

export interface IncrementalOptions extends JobOptions {
  /**
   * Replay every symbol's trades since this time, changed or not: an ISO-8601 time or an
   * interval in the past such as "10 minutes ago" (for the old cron line, and for repair).
   */
  readonly since?: string;
}

export interface IncrementalResult extends RunOutcome {
  readonly mode: 'incremental';
  readonly tradesProcessed: number;
  readonly symbolsReplayed: number;
  readonly symbolsAppended: number;
  readonly changesConsumed: number;
  readonly allocationsCreated: number;
  readonly allocationsRemoved: number;
  readonly rejectedTrades: number;
  /** Buys whose remaining_size mirror another program had rewritten, put back by this run. */
  readonly mirrorsRestored: number;
  /** Symbols a partitioned rebuild held: their changes stay for the next run. */
  readonly symbolsDeferred: number;
  /** When the version had never been built, the run did a full rebuild instead. */
  readonly fullRebuild?: FullRebuildResult;
}

const FETCH_ROWS = 10_000;
/** A batch (one transaction) holds up to this many symbols, more only to keep linked symbols together. */
const BATCH_SYMBOLS = 100;

export async function runIncremental(db: Database, options: IncrementalOptions): Promise<IncrementalResult> {
  const logger = options.logger ?? silentLogger;
  const since = options.since === undefined ? null : await resolveSinceOn(db, options.since);
  return withVersionLock(
    db,
    { ...options, mode: 'incremental' },
    async (client) => {
      // Before anything is said or done: a version that is not fifo-ledger's is refused.
      await assertVersionIsOurs(client, options.version, options.takeOverVersion ?? false, logger);
      if ((await lastFullRebuild(client, options.version)) === null) {
        const building = await openPartitionedRun(client, options.version);
        if (building !== null) {
          // Its partitions are building the version; their symbols' changes wait for them.
          logger.info('version is being built by a partitioned rebuild; nothing to do until it finishes', {
            version: options.version,
            runId: building,
          });
          return { ...emptyResult(options.version, null), status: 'skipped' as const };
        }
        // Never built: appending to nothing would miss the history. Build it first.
        logger.info('version has no completed full rebuild yet; running one', { version: options.version });
        const full = await fullRebuildLocked(db, client, { ...options, dryRun: false });
        return {
          ...emptyResult(options.version, full.runId),
          fullRebuild: full,
          tradesProcessed: full.trades,
        };
      }
      return incrementalLocked(db, client, options, since);
    },
    (runId) => ({ ...emptyResult(options.version, runId), status: 'skipped' }),
  );
}

async function resolveSinceOn(db: Database, since: string): Promise<string> {
  const client = await db.pool.connect();
  try {
    return await resolveSince(client, since);
  } finally {
    client.release();
  }
}

function emptyResult(version: number, runId: string | null): IncrementalResult {
  return {
    mode: 'incremental',
    status: 'completed',
    runId,
    version,
    durationMs: 0,
    tradesProcessed: 0,
    symbolsReplayed: 0,
    symbolsAppended: 0,
    changesConsumed: 0,
    allocationsCreated: 0,
    allocationsRemoved: 0,
    rejectedTrades: 0,
    mirrorsRestored: 0,
    symbolsDeferred: 0,
  };
}

/** Reads --since: an ISO time, or a past interval like "10 minutes ago", as canonical UTC. */
export async function resolveSince(client: pg.ClientBase, since: string): Promise<string> {
  try {
    return canonicalTime(since);
  } catch (error) {
    if (!(error instanceof TimeFormatError)) throw error;
  }
  try {
    const { rows } = await client.query<{ at: string; past: boolean }>(
      `SELECT ${utcText('now() + $1::interval')} AS at, now() + $1::interval <= now() AS past`,
      [since],
    );
    if (rows[0]?.past) return rows[0].at;
  } catch {
    // not an interval either
  }
  throw new ConfigError(
    `--since: "${since}" is neither an ISO-8601 time nor a past interval like "10 minutes ago"`,
  );
}

async function incrementalLocked(
  db: Database,
  client: pg.PoolClient,
  options: IncrementalOptions,
  since: string | null,
): Promise<IncrementalResult> {
  const started = Date.now();
  const logger = options.logger ?? silentLogger;
  const { version } = options;
  const batchId = randomUUID();
  const runId = await openRun(client, { ...options, mode: 'incremental' }, batchId);
  const counts = emptyCounts();
  const totals = { trades: 0, appended: 0, pnl: 0n, deferred: 0 };
  const rejected: RejectedTrade[] = [];
  const writerOptions = { version, batchId, supportsCopy: db.supportsCopy };
  const mirrorsRestored = await recordingFailure(
    db,
    client,
    { runId, counts, what: 'incremental run', logger },
    async () => {
      const horizon = await readHorizon(client);
      await admitMaturedTrades(client, version, horizon);
      const symbols = await symbolsToProcess(client, version, since);
      // Symbols commit in batches: each batch's allocations, lots, consumed changes, progress
      // and log counters together. Symbols that a trade moved between share a batch, and a
      // batch removes what it replays in all its symbols before it writes anything, so a sell
      // never exists twice (the unique key spans symbols) and slices go back to the right lots.
      for (const batch of await planBatches(client, version, symbols)) {
        await client.query('BEGIN');
        // A partition of a partitioned rebuild may hold some symbols: those wait for the next run.
        const free = await lockFreeSymbols(client, version, batch);
        totals.deferred += batch.flat().length - free.length;
        const writer = await SymbolWriter.open(client, writerOptions);
        const prepared: PreparedSymbol[] = [];
        for (const symbol of free) {
          const ready = await prepareSymbol(client, version, symbol, since, counts);
          if (ready) prepared.push(ready);
        }
        for (const ready of prepared) {
          const outcome = await processSymbol(client, writer, options, ready, horizon, counts, rejected);
          totals.trades += outcome.trades;
          totals.pnl += outcome.pnl;
          if (ready.append) totals.appended++;
        }
        await writer.close();
        counts.totalPnl = formatUsd(totals.pnl);
        await updateRun(client, runId, counts);
        await client.query('COMMIT');
        options.onProgress?.(totals.trades);
      }
      await client.query('BEGIN');
      const writer = await SymbolWriter.open(client, writerOptions);
      await writer.restoreNotedMirrorWrites();
      const restored = await writer.close();
      await updateRun(client, runId, counts, { status: 'completed' });
      await client.query('COMMIT');
      return restored;
    },
  );
  if (totals.deferred > 0) {
    logger.info('symbols held by a partitioned rebuild were left for the next run', {
      symbols: totals.deferred,
    });
  }
  logRejections(logger, rejected);
  const result: IncrementalResult = {
    mode: 'incremental',
    status: 'completed',
    runId,
    version,
    durationMs: Date.now() - started,
    tradesProcessed: totals.trades,
    symbolsReplayed: counts.symbolsReplayed,
    symbolsAppended: totals.appended,
    symbolsDeferred: totals.deferred,
    changesConsumed: counts.changesConsumed,
    allocationsCreated: counts.allocationsCreated,
    allocationsRemoved: counts.allocationsRemoved,
    rejectedTrades: counts.tradesRejected,
    mirrorsRestored,
  };
  logger.info('incremental run completed', { ...result });
  return result;
}

/**
 * Trades rejected for a time in the future whose time the clock has now reached: no change
 * announces them, so they are recorded as changes here and taken in like late trades.
 */
async function admitMaturedTrades(client: pg.ClientBase, version: number, horizon: string): Promise<void> {
  await client.query(
    `INSERT INTO fifo_trade_changes (allocation_version, symbol, order_time, order_id)
     SELECT $1, t.symbol, t.order_time, t.order_id
     FROM fifo_rejected_trades r JOIN trade_records t ON t.order_id = r.order_id
     WHERE r.reason LIKE $3 || '%' AND t.order_time <= $2::timestamptz
       AND NOT EXISTS (SELECT 1 FROM fifo_trade_changes c WHERE c.allocation_version = $1 AND c.order_id = t.order_id)`,
    [version, horizon, FUTURE_REASON],
  );
}

/** Symbols with pending changes, plus (with --since) every symbol traded or built since then. */
async function symbolsToProcess(
  client: pg.ClientBase,
  version: number,
  since: string | null,
): Promise<string[]> {
  const { rows } = await client.query<{ symbol: string }>(
    `SELECT DISTINCT symbol FROM fifo_trade_changes WHERE allocation_version = $1
     UNION
     SELECT symbol FROM fifo_symbol_progress WHERE $2::timestamptz IS NOT NULL AND allocation_version = $1
     UNION
     SELECT DISTINCT symbol FROM trade_records WHERE $2::timestamptz IS NOT NULL AND order_time >= $2::timestamptz`,
    [version, since],
  );
  return rows.map((r) => r.symbol).sort(compareCodePoints);
}

/** A symbol whose changes are consumed and whose replayed part is removed, ready to process. */
interface PreparedSymbol {
  readonly symbol: string;
  /** Trades from this time on are (re)processed. */
  readonly from: string;
  readonly append: boolean;
  /** Order ids whose changes were consumed. */
  readonly changed: string[];
  /** Buys bought before `from` whose lots got slices back: their mirror may have to move. */
  readonly restoredBuys: ReadonlySet<string>;
}

/**
 * Groups symbols into batches of groups. Symbols linked by a trade that moved between them
 * (one order_id with pending changes in both) form a group, and a group is never split.
 */
async function planBatches(
  client: pg.ClientBase,
  version: number,
  symbols: readonly string[],
): Promise<string[][][]> {
  const { rows } = await client.query<{ symbols: string[] }>(
    `SELECT array_agg(DISTINCT symbol) AS symbols FROM fifo_trade_changes
     WHERE allocation_version = $1 GROUP BY order_id HAVING count(DISTINCT symbol) > 1`,
    [version],
  );
  const parent = new Map(symbols.map((s) => [s, s]));
  const find = (s: string): string => {
    const p = parent.get(s) ?? s;
    if (p === s) return s;
    const root = find(p);
    parent.set(s, root);
    return root;
  };
  for (const { symbols: linked } of rows) {
    for (const s of linked) if (!parent.has(s)) parent.set(s, s);
    for (const s of linked.slice(1)) parent.set(find(s), find(linked[0]!));
  }
  const groups = new Map<string, string[]>();
  for (const s of symbols) {
    const root = find(s);
    groups.set(root, [...(groups.get(root) ?? []), s]);
  }
  const batches: string[][][] = [];
  let current: string[][] = [];
  let size = 0;
  for (const group of groups.values()) {
    if (size > 0 && size + group.length > BATCH_SYMBOLS) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(group);
    size += group.length;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Consumes a symbol's changes and removes what must be replayed; null when nothing is due. */
async function prepareSymbol(
  client: pg.ClientBase,
  version: number,
  symbol: string,
  since: string | null,
  counts: RunCounts,
): Promise<PreparedSymbol | null> {
  // Consume exactly the changes visible now; ones committed later stay for the next run.
  const { rows: consumed } = await client.query<{ order_time: string; order_id: string }>(
    `DELETE FROM fifo_trade_changes WHERE allocation_version = $1 AND symbol = $2
     RETURNING ${utcText('order_time')} AS order_time, order_id`,
    [version, symbol],
  );
  counts.changesConsumed += consumed.length;
  let from = since;
  for (const change of consumed) if (from === null || change.order_time < from) from = change.order_time;
  if (from === null) return null;

  const progress = await readProgress(client, version, symbol);
  const append = progress !== null && from > progress.time;
  let restoredBuys: ReadonlySet<string> = new Set();
  if (!append) {
    const removal = await removeAllocationsFrom(client, version, symbol, from);
    counts.allocationsRemoved += removal.removed;
    restoredBuys = new Set(removal.restoredBuys);
    await deleteLotsFrom(client, version, symbol, from);
    counts.symbolsReplayed++;
  }
  return { symbol, from, append, changed: consumed.map((c) => c.order_id), restoredBuys };
}

/** Resumes the symbol from its lots before `from` and processes its trades from `from` on. */
async function processSymbol(
  client: pg.PoolClient,
  writer: SymbolWriter,
  options: IncrementalOptions,
  prepared: PreparedSymbol,
  horizon: string,
  counts: RunCounts,
  rejectedAll: RejectedTrade[],
): Promise<{ trades: number; pnl: bigint }> {
  const { version } = options;
  const { symbol, from, append } = prepared;
  const lots = await loadOpenLots(client, version, symbol, append ? null : from);
  const step = new SymbolStep(symbol, { lots, givenBack: prepared.restoredBuys }, horizon, options.engine);
  const cursor = await TradeCursor.open(
    client,
    'fifo_symbol_trades',
    'WHERE symbol = $1 AND order_time >= $2::timestamptz',
    [symbol, from],
    SOURCE_ORDER,
  );
  for (;;) {
    const rows = await cursor.next(FETCH_ROWS);
    for (const row of rows) step.add(row);
    if (rows.length < FETCH_ROWS) break;
  }
  const outcome = step.finish();
  counts.buysProcessed += outcome.buys;
  counts.sellsProcessed += outcome.sells;
  counts.allocationsCreated += outcome.allocations.length;
  writer.insertAllocations(outcome.allocations);
  writer.upsertLots(outcome.lots);
  writer.mirror(outcome.mirror);

  await writer.settled();
  await recordRejections(client, outcome.rejected);
  await clearRejections(
    client,
    prepared.changed,
    outcome.rejected.map((r) => r.orderId),
  );
  counts.tradesRejected += outcome.rejected.length;
  appendAll(rejectedAll, outcome.rejected);

  let last: TradeKey | null = outcome.last;
  if (last === null && !append) last = await lastTradeBefore(client, symbol, from);
  if (last !== null || !append) writer.progress(symbol, last);
  await writer.maybeFlush();
  counts.symbols.add(symbol);
  return { trades: outcome.trades, pnl: outcome.realizedPnl };
}

/** The symbol's last trade source row before `time`: the progress when nothing follows it. */
async function lastTradeBefore(
  client: pg.ClientBase,
  symbol: string,
  time: string,
): Promise<{ time: string; side: 'buy' | 'sell'; orderId: string } | null> {
  const { rows } = await client.query<{ order_time: string; side: string; order_id: string }>(
    `${SOURCE_SELECT} WHERE symbol = $1 AND order_time < $2::timestamptz AND order_time >= '0001-01-01T00:00:00Z'
     ORDER BY order_time DESC, (side = 'sell') DESC, order_id COLLATE "C" DESC LIMIT 1`,
    [symbol, time],
  );
  const row = rows[0];
  return row
    ? { time: row.order_time, side: row.side === 'buy' ? 'buy' : 'sell', orderId: row.order_id }
    : null;
}
