/**
 * Coexistence harness: the bot's own writers (test/support/bot-writers.ts:
 * trade recorder, cancellations, startup maintenance, its FIFO script nightly and every 5
 * minutes) and fifo-ledger's jobs, interleaved round after round on one real PostgreSQL
 * database loaded from the bot's production DDL, sometimes at the same time. After every round:
 *
 * - fifo-ledger's version (3) equals a fresh full rebuild of the same trades in another
 *   database, row for row (allocations and lots), and a dry-run rebuild finds no drift;
 * - the remaining_size mirror equals every lot of version 3 again;
 * - the bot's version 2, its log rows and its review queue are exactly what the bot wrote;
 * - health and the daily report count only fifo-ledger's runs and never fail on the bot's;
 * - the bot's four views answer.
 *
 * The seed fixes every operation; when two programs run at once their timing is free, and the
 * assertions hold whatever the interleaving. Reproduce a failure with FIFO_COEXIST_SEED (the
 * failing message names the seed and the round); FIFO_COEXIST_ROUNDS runs more rounds.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../shared/db/migrate.ts';
import { withConnection } from '../../shared/db/pool.ts';
import {
  type FullRebuildResult,
  type IncrementalResult,
  readHealth,
  runFullRebuild,
  runIncremental,
} from '../../shared/jobs/index.ts';
import { runDailyReport } from '../../shared/report/index.ts';
import { BOT_VIEWS, createBotSchema } from '../support/bot-schema.ts';
import {
  BOT_SOURCES,
  BOT_VERSION,
  type BotFifoOptions,
  BotFifoScript,
  type BotRunEnd,
  type BotRunWritten,
  cancelOrder,
  fillId,
  type RecordedTrade,
  readBotState,
  recordTrade,
  runBotFifoSince,
  startupMaintenance,
} from '../support/bot-writers.ts';
import { createEmptyDatabase, type TestDatabase } from '../support/database.ts';
import { snapshotVersion } from '../support/fixtures.ts';

const SEED = Number(process.env.FIFO_COEXIST_SEED ?? 0x13c0e);
const ROUNDS = Number(process.env.FIFO_COEXIST_ROUNDS ?? 40);
const OURS = 3;
/** How long a fifo-ledger job may wait on the bot's open transaction before the test says so. */
const BLOCKED_MS = 15_000;

/** mulberry32: a small seeded PRNG, so every round is reproducible from SEED. */
class Prng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  uuid(): string {
    const hex = Array.from({ length: 32 }, () => this.int(0, 15).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20)}`;
  }
}

/** Coinbase-style markets: prices and sizes truncated to each one's increments. */
const MARKETS = [
  { symbol: 'BTC-USD', price: [60_000_00, 70_000_00, 2], size: [1_000, 500_000, 8] },
  { symbol: 'TOSHI-USD', price: [400, 800, 6], size: [1_000, 50_000, 0] },
  { symbol: 'ETH-USD', price: [2_000_00, 4_000_00, 2], size: [10, 20_000, 4] },
] as const;
const TRIGGERS = ['roc_momo', 'rsi_revert', 'breakout', 'tp', 'sl'];

/** Whole units scaled by 10^-places, as decimal text. */
const scaled = (units: number, places: number): string => {
  if (places === 0) return String(units);
  const s = String(units).padStart(places + 1, '0');
  return `${s.slice(0, -places)}.${s.slice(-places)}`.replace(/\.?0+$/, '');
};

type Writer =
  | 'new order'
  | 'order with per-fill rows'
  | 'fill rows before their order row'
  | 'identical re-upsert'
  | 'corrected price'
  | 'corrected size'
  | 'cancellation'
  | 'cancelled order recorded again'
  | 'startup maintenance'
  | 'bot fifo nightly: completed'
  | 'bot fifo nightly: running, then completed'
  | 'bot fifo nightly: partial'
  | 'bot fifo nightly: failed'
  | 'bot fifo --since';

type JobPlan =
  | 'incremental'
  | 'nightly full rebuild'
  | 'incremental while the recorder writes'
  | 'incremental while the maintenance runs'
  | "incremental while the bot's fifo transaction is open"
  | "nightly full rebuild while the bot's fifo transaction is open";

const WRITERS: readonly [Writer, number][] = [
  ['new order', 8],
  ['order with per-fill rows', 2],
  ['fill rows before their order row', 1],
  ['identical re-upsert', 2],
  ['corrected price', 2],
  ['corrected size', 2],
  ['cancellation', 2],
  ['cancelled order recorded again', 1],
  ['startup maintenance', 2],
  ['bot fifo nightly: completed', 1],
  ['bot fifo nightly: running, then completed', 1],
  ['bot fifo nightly: partial', 0.5],
  ['bot fifo nightly: failed', 0.5],
  ['bot fifo --since', 1.5],
];
const JOBS: readonly [JobPlan, number][] = [
  ['incremental', 10],
  ['nightly full rebuild', 2],
  ['incremental while the recorder writes', 2],
  ['incremental while the maintenance runs', 1],
  ["incremental while the bot's fifo transaction is open", 1.5],
  ["nightly full rebuild while the bot's fifo transaction is open", 1],
];
/** The first rounds force one of each, so every seed covers every writer and job. */
const FORCED: readonly (Writer | JobPlan)[] = [
  'startup maintenance',
  'bot fifo nightly: failed',
  "incremental while the bot's fifo transaction is open",
  'order with per-fill rows',
  'bot fifo nightly: partial',
  'nightly full rebuild',
  'cancellation',
  'bot fifo nightly: running, then completed',
  'incremental while the recorder writes',
  'fill rows before their order row',
  "nightly full rebuild while the bot's fifo transaction is open",
  'cancelled order recorded again',
  'corrected size',
  'incremental while the maintenance runs',
  'bot fifo --since',
];

const weighted = <T>(rng: Prng, table: readonly [T, number][]): T => {
  let x = rng.next() * table.reduce((sum, [, w]) => sum + w, 0);
  for (const [item, w] of table) {
    x -= w;
    if (x < 0) return item;
  }
  return table.at(-1)![0];
};

/** What the harness knows the bot wrote, and the ids of fifo-ledger's own runs. */
interface World {
  readonly now: number;
  /** Order rows and per-fill rows as last recorded, by order id. */
  readonly rows: Map<string, RecordedTrade>;
  /** Order ids whose per-fill rows exist (the order row may not yet). */
  readonly fills: Map<string, string[]>;
  /** Order rows that come after their fills, in a later round. */
  readonly lateOrderRows: RecordedTrade[];
  readonly cancelled: RecordedTrade[];
  /** Canonical jsonb of the bot's version 2 and review queue, as the bot last left them. */
  expected: { allocations: string[]; queue: string[] };
  /** The bot's log rows (id → canonical jsonb), as it last wrote each. */
  readonly botLog: Map<string, string>;
  /** Order ids the recorder or a cancellation wrote in this round. */
  readonly written: Set<string>;
  /** A bot FIFO run logged 'running' and not finished yet (it spans fifo-ledger's runs). */
  openScript: { script: BotFifoScript; finishInRound: number } | null;
  ourRuns: { incremental: string | null; full: string | null };
  readonly coverage: Map<string, number>;
}

const count = (world: World, what: string) => world.coverage.set(what, (world.coverage.get(what) ?? 0) + 1);

function newTrade(rng: Prng, world: World, orderId: string): RecordedTrade {
  const market = rng.pick(MARKETS);
  const side = rng.chance(0.6) ? 'buy' : 'sell';
  const price = scaled(rng.int(market.price[0], market.price[1]), market.price[2]);
  // Sells are sometimes larger than what is open: unmatched remainders on both sides' engines.
  const size = scaled(
    rng.int(market.size[0], market.size[1]) * (side === 'sell' ? rng.pick([1, 1, 2, 3]) : 1),
    market.size[2],
  );
  // Any minute of the last two days (late and back-dated fills are the rule, not the exception),
  // a few minutes apart so that equal timestamps happen too.
  const minutesAgo = rng.int(5, 48 * 60);
  const orderTime = new Date(Math.floor(world.now / 60_000) * 60_000 - minutesAgo * 60_000).toISOString();
  const notional = Number(price) * Number(size);
  return {
    orderId,
    symbol: market.symbol,
    side,
    orderTime,
    price,
    size,
    fee: rng.chance(0.25) ? null : ((notional * rng.int(0, 60)) / 10_000).toFixed(6),
    trigger: rng.pick(TRIGGERS),
    source: rng.pick(BOT_SOURCES),
    status: rng.pick(['filled', 'filled', 'done', null] as const),
    legacyPnl: side === 'sell' && rng.chance(0.5) ? (rng.int(-5_000, 5_000) / 100).toFixed(2) : null,
  };
}

/** Splits an order into per-fill rows whose sizes add up to it (each in the order's increments). */
function fillRows(rng: Prng, order: RecordedTrade): RecordedTrade[] {
  const places = order.size.split('.')[1]?.length ?? 0;
  const units = Math.round(Number(order.size) * 10 ** places);
  const n = units >= 3 ? rng.int(2, 3) : 1;
  const cuts = [
    0,
    ...Array.from({ length: n - 1 }, () => rng.int(1, units - 1)).sort((a, b) => a - b),
    units,
  ];
  return cuts.slice(1).flatMap((cut, i) =>
    cut - cuts[i]! > 0
      ? [
          {
            ...order,
            orderId: fillId(order.orderId, i + 1),
            size: scaled(cut - cuts[i]!, places),
            fee: null,
            orderTime: new Date(Date.parse(order.orderTime) - (n - i) * 1000).toISOString(),
          },
        ]
      : [],
  );
}

const pickOrder = (rng: Prng, world: World, side?: 'buy' | 'sell') => {
  const ids = [...world.rows.values()]
    .filter((t) => !t.orderId.includes('-FILL-') && (side === undefined || t.side === side))
    .map((t) => t.orderId);
  return ids.length === 0 ? null : world.rows.get(rng.pick(ids))!;
};

/** The recorder, noting which orders this round wrote. */
async function record(world: World, bot: pg.Pool, t: RecordedTrade) {
  world.written.add(t.orderId);
  await recordTrade(bot, t);
}

/** Each lot's remaining size in version 3, by buy. */
async function lotSizes(db: TestDatabase): Promise<Map<string, string>> {
  const { rows } = await db.pool.query<{ id: string; remaining: string }>(
    'SELECT buy_order_id AS id, remaining_size::text AS remaining FROM fifo_lots WHERE allocation_version = $1',
    [OURS],
  );
  return new Map(rows.map((r) => [r.id, r.remaining]));
}

async function pendingChanges(db: TestDatabase): Promise<number> {
  const { rows } = await db.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM fifo_trade_changes');
  return Number(rows[0]!.n);
}

/** Takes in what one run of the bot's FIFO script left. */
function botWrote(world: World, written: BotRunWritten) {
  world.expected = { allocations: written.allocations, queue: written.queue };
  if (written.logId !== null) world.botLog.set(written.logId, written.log!);
}

/** One writer of the bot's, applied through the bot's own connections. */
async function applyWriter(
  writer: Writer,
  rng: Prng,
  world: World,
  db: TestDatabase,
  bot: pg.Pool,
  round: number,
): Promise<void> {
  const batchId = rng.uuid();
  const script = (end: BotRunEnd, logRunningFirst = false): BotFifoOptions => ({
    end,
    logRunningFirst,
    batchId,
  });
  switch (writer) {
    case 'new order': {
      const t = newTrade(rng, world, rng.uuid());
      await record(world, bot, t);
      world.rows.set(t.orderId, t);
      break;
    }
    case 'order with per-fill rows':
    case 'fill rows before their order row': {
      const order = newTrade(rng, world, rng.uuid());
      const fills = fillRows(rng, order);
      const orderFirst = writer === 'order with per-fill rows' && rng.chance(0.5);
      if (orderFirst) await record(world, bot, order);
      for (const f of fills) {
        await record(world, bot, f);
        world.rows.set(f.orderId, f);
      }
      world.fills.set(
        order.orderId,
        fills.map((f) => f.orderId),
      );
      if (orderFirst || writer === 'order with per-fill rows') {
        if (!orderFirst) await record(world, bot, order);
        world.rows.set(order.orderId, order);
      } else {
        world.lateOrderRows.push(order);
      }
      break;
    }
    case 'identical re-upsert':
    case 'corrected price':
    case 'corrected size': {
      const before = pickOrder(rng, world);
      if (!before) return;
      const reconciledAt = new Date(world.now).toISOString();
      let after: RecordedTrade = { ...before, reconciledAt, source: 'reconciled' as const };
      if (writer === 'identical re-upsert') after = { ...before, reconciledAt };
      if (writer === 'corrected price') {
        after = {
          ...after,
          price: String(Number((Number(before.price) * (1 + rng.int(-30, 30) / 1000)).toPrecision(8))),
        };
      }
      if (writer === 'corrected size' && !world.fills.has(before.orderId)) {
        const places = before.size.split('.')[1]?.length ?? 0;
        const units = Math.max(
          1,
          Math.round(Number(before.size) * 10 ** places * (1 + rng.int(-40, 40) / 100)),
        );
        after = { ...after, size: scaled(units, places) };
      }
      const changesBefore = await pendingChanges(db);
      await record(world, bot, after);
      world.rows.set(after.orderId, after);
      if (writer === 'identical re-upsert') {
        // Reconcile bookkeeping only: nothing FIFO reads changed, so nothing is captured.
        expect(
          await pendingChanges(db),
          `seed ${SEED}, round ${round}: an identical re-upsert was captured`,
        ).toBe(changesBefore);
      }
      break;
    }
    case 'cancellation': {
      // Mostly sells: a cancelled sell gives its slices back to lots that nothing else changed.
      const order = pickOrder(rng, world, rng.chance(0.7) ? 'sell' : undefined);
      if (!order) return;
      const deleted = await cancelOrder(bot, order.orderId);
      for (const id of deleted) world.written.add(id);
      for (const id of deleted) world.rows.delete(id);
      world.fills.delete(order.orderId);
      world.cancelled.push(order);
      // The bot's own foreign key cascades: its review rows of those orders go with them.
      world.expected.queue = world.expected.queue.filter(
        (row) => !deleted.includes((JSON.parse(row) as { order_id: string }).order_id),
      );
      break;
    }
    case 'cancelled order recorded again': {
      const order = world.cancelled.pop();
      if (!order) return;
      await record(world, bot, order);
      world.rows.set(order.orderId, order);
      break;
    }
    case 'startup maintenance': {
      const changesBefore = await pendingChanges(db);
      await startupMaintenance(bot);
      expect(await pendingChanges(db), `seed ${SEED}, round ${round}: the maintenance was captured`).toBe(
        changesBefore,
      );
      break;
    }
    case 'bot fifo nightly: completed':
      botWrote(world, await (await BotFifoScript.start(bot, script('completed'))).finish());
      break;
    case 'bot fifo nightly: partial':
      botWrote(world, await (await BotFifoScript.start(bot, script('partial', rng.chance(0.5)))).finish());
      break;
    case 'bot fifo nightly: failed':
      botWrote(world, await (await BotFifoScript.start(bot, script('failed', rng.chance(0.5)))).finish());
      break;
    case 'bot fifo nightly: running, then completed': {
      if (world.openScript) return;
      // A long run: its 'running' row stays across fifo-ledger's runs for a round or two.
      const started = await BotFifoScript.start(bot, script('completed', true));
      world.botLog.set(started.runningRow!.id, started.runningRow!.row);
      world.openScript = { script: started, finishInRound: round + rng.int(0, 2) };
      break;
    }
    case 'bot fifo --since': {
      const since = new Date(world.now - rng.int(10, 24 * 60) * 60_000).toISOString();
      botWrote(world, await runBotFifoSince(bot, since, batchId));
      break;
    }
  }
  count(world, writer);
}

/** Runs a fifo-ledger job while the bot holds its FIFO transaction open, uncommitted. */
async function whileBotTransactionOpen<T>(
  bot: pg.Pool,
  world: World,
  job: () => Promise<T>,
  batchId: string,
) {
  const script = await BotFifoScript.start(bot, { end: 'completed', batchId });
  await script.write();
  let blocked = false;
  const timer = setTimeout(() => {
    blocked = true;
    void script.abort();
  }, BLOCKED_MS);
  try {
    const result = await job();
    return { result, blocked };
  } finally {
    clearTimeout(timer);
    if (!blocked) botWrote(world, await script.finish());
  }
}

function noteOurRun(world: World, result: IncrementalResult | FullRebuildResult) {
  expect(result.status).toBe('completed');
  if (result.mode === 'full' && !result.dryRun) world.ourRuns.full = result.runId;
  if (result.mode === 'incremental') {
    if (result.fullRebuild) world.ourRuns.full = result.runId;
    else world.ourRuns.incremental = result.runId;
    if (result.mirrorsRestored > 0) count(world, 'mirrors restored by an incremental run');
  }
}

/** The fresh rebuild: the same trades, copied bit for bit into a reset database, built once. */
async function freshRebuild(db: TestDatabase, ref: TestDatabase) {
  await ref.pool.query(
    `TRUNCATE trade_records, fifo_allocations, fifo_lots, fifo_trade_changes, fifo_symbol_progress, fifo_versions,
              fifo_computation_log, fifo_rejected_trades, fifo_mirror_writes, manual_review_queue CASCADE`,
  );
  const { rows } = await db.pool.query<{ rows: string }>(
    `SELECT coalesce(json_agg(t), '[]')::text AS rows FROM trade_records t`,
  );
  await ref.pool.query(
    'INSERT INTO trade_records SELECT * FROM json_populate_recordset(NULL::trade_records, $1::json)',
    [rows[0]!.rows],
  );
  const built = await runFullRebuild(ref, { version: OURS });
  expect(built.status).toBe('completed');
  return snapshotVersion(ref.pool, OURS);
}

async function botLogRows(db: TestDatabase, ids: readonly string[]) {
  const { rows } = await db.pool.query<{ id: string; row: string }>(
    'SELECT id::text AS id, to_jsonb(l)::text AS row FROM fifo_computation_log l WHERE l.id = ANY($1::bigint[]) ORDER BY l.id',
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r.row]));
}

async function assessRound(db: TestDatabase, ref: TestDatabase, world: World, round: number) {
  const at = (what: string) => `seed ${SEED}, round ${round}: ${what}`;

  // fifo-ledger's version equals a fresh full rebuild, row for row; a dry run finds no drift.
  const ours = await snapshotVersion(db.pool, OURS);
  expect(ours.allocations, at('allocations differ from a fresh full rebuild')).toEqual(
    (await freshRebuild(db, ref)).allocations,
  );
  expect(ours.lots, at('lots differ from a fresh full rebuild')).toEqual(
    (await snapshotVersion(ref.pool, OURS)).lots,
  );
  const dry = await runFullRebuild(db, { version: OURS, dryRun: true });
  expect(
    { drift: dry.drift, pending: dry.pendingApplied.changes },
    at('a dry-run rebuild found drift'),
  ).toEqual({
    drift: { ...dry.drift, rowsAdded: 0, rowsRemoved: 0, rowsChanged: 0, rows: 0, usd: '0', lotRows: 0 },
    pending: 0,
  });

  if (ours.allocations.some((a) => a.buy_order_id === null)) count(world, 'unmatched sells in version 3');
  if (world.expected.queue.length > 0) count(world, "unmatched sells in the bot's review queue");

  // The bot's rows are exactly what the bot wrote.
  const botState = await readBotState(db.pool);
  expect(botState.allocations, at("the bot's version 2 changed")).toEqual(world.expected.allocations);
  expect(botState.queue, at("the bot's review queue changed")).toEqual(world.expected.queue);
  const botIds = [...world.botLog.keys()];
  expect(await botLogRows(db, botIds), at("the bot's log rows changed")).toEqual(world.botLog);
  const { rows: foreign } = await db.pool.query<{ id: string }>(
    'SELECT l.id::text AS id FROM fifo_computation_log l WHERE NOT l.fifo_ledger_run ORDER BY l.id',
  );
  expect(
    foreign.map((r) => r.id),
    at("fifo-ledger counts other rows than the bot's as foreign"),
  ).toEqual(botIds.sort((a, b) => Number(a) - Number(b)));
  const { rows: snapshot } = await db.pool.query('SELECT count(*)::int AS n FROM fifo_inventory_snapshot');
  expect(snapshot[0].n, at('fifo_inventory_snapshot was written')).toBe(0);

  // Health counts fifo-ledger's runs only, and never fails or abandons the bot's.
  const health = await readHealth(db.pool, OURS);
  expect(
    {
      lastIncremental: health.lastRun.incremental?.id ?? null,
      lastFull: health.lastRun.full?.id ?? null,
      statuses: [health.lastRun.incremental?.status ?? 'completed', health.lastRun.full?.status],
      abandonedRuns: health.abandonedRuns,
      runInProgress: health.runInProgress,
      foreignRuns24h: health.foreignRuns24h,
      pendingChanges: health.pendingChanges,
      mirrorMismatches: health.mirrorMismatches,
      lastDriftRows: health.lastDrift?.rows,
    },
    at('health'),
  ).toEqual({
    lastIncremental: world.ourRuns.incremental,
    lastFull: world.ourRuns.full,
    statuses: ['completed', 'completed'],
    abandonedRuns: 0,
    runInProgress: false,
    foreignRuns24h: botIds.length,
    pendingChanges: 0,
    mirrorMismatches: 0,
    lastDriftRows: 0,
  });

  // Health of the bot's own version: none of its runs is fifo-ledger's, none is abandoned.
  const theirs = await readHealth(db.pool, BOT_VERSION);
  expect(
    { lastRun: theirs.lastRun, abandonedRuns: theirs.abandonedRuns },
    at("health of the bot's version"),
  ).toEqual({ lastRun: { full: null, incremental: null }, abandonedRuns: 0 });

  // The daily report (built and rendered, not sent) does not fail on the bot's rows either.
  const report = await runDailyReport(db, { version: OURS, hours: 48, now: new Date() });
  const runReasons = report.model.health.reasons.filter((r) => !/no open lot|rejected/.test(r.text));
  expect(
    { failedRunsInWindow: report.model.health.failedRunsInWindow, reasons: runReasons },
    at('the report judged runs'),
  ).toEqual({ failedRunsInWindow: 0, reasons: [] });
  expect(['OK', 'WARNING'], at('verdict')).toContain(report.verdict);
  expect(report.model.health.status.lastRun.incremental?.id ?? null, at('report health')).toBe(
    world.ourRuns.incremental,
  );

  // The bot's four views answer; the health view shows both versions as they are.
  for (const view of BOT_VIEWS) await db.pool.query(`SELECT * FROM ${view}`);
  const { rows: viewHealth } = await db.pool.query<{ v: number; n: string }>(
    'SELECT allocation_version AS v, total_allocations::text AS n FROM v_allocation_health ORDER BY 1',
  );
  expect(viewHealth, at('v_allocation_health')).toEqual(
    [
      ...(world.expected.allocations.length > 0
        ? [{ v: BOT_VERSION, n: String(world.expected.allocations.length) }]
        : []),
      { v: OURS, n: String(ours.allocations.length) },
    ].filter((r) => r.n !== '0'),
  );
  const { rows: discrepancies } = await db.pool.query('SELECT * FROM v_allocation_discrepancies');
  expect(discrepancies, at('v_allocation_discrepancies over version 3')).toEqual([]);
  // The mirror: every lot's buy shows the lot's remaining size. Soft: a stale mirror heals at
  // the next replay or rebuild of its symbol, so the later rounds still have something to say.
  const { rows: mirror } = await db.pool.query(
    `SELECT l.buy_order_id, l.remaining_size::text AS lot, t.remaining_size::text AS mirror
     FROM fifo_lots l JOIN trade_records t ON t.order_id = l.buy_order_id
     WHERE l.allocation_version = $1 AND t.remaining_size IS DISTINCT FROM l.remaining_size::double precision`,
    [OURS],
  );
  expect.soft(mirror, at('remaining_size differs from the lot')).toEqual([]);
}

// The bot's writers run in sessions of their own beside the jobs: a real server.
describe("the bot's writers and fifo-ledger's jobs, interleaved on the production DDL", {
  tags: 'server',
}, () => {
  let db: TestDatabase;
  let ref: TestDatabase;
  let bot: pg.Pool;
  beforeAll(async () => {
    db = await createEmptyDatabase();
    ref = await createEmptyDatabase();
    for (const d of [db, ref]) {
      await createBotSchema(d.pool, { data: false });
      await withConnection(d, migrate);
    }
    // The bot is another program: connections of its own.
    bot = new pg.Pool({ connectionString: db.url, max: 4, application_name: 'trading-bot' });
  });
  afterAll(async () => {
    await bot?.end();
    await db?.drop();
    await ref?.drop();
  });

  it(`keeps both sides' rows exact over ${ROUNDS} seeded rounds (seed ${SEED})`, async () => {
    // Why: the bot's programs keep writing the shared tables after fifo-ledger is installed
    // (docs/design.md §3.1); each side must keep its own rows exact, whatever the other does, in
    // whatever order, at the same time or not.
    // Prepare: the bot was there first, with trades, its version 2, its log and its queue.
    const rng = new Prng(SEED);
    const world: World = {
      now: Date.now(),
      rows: new Map(),
      fills: new Map(),
      lateOrderRows: [],
      cancelled: [],
      expected: { allocations: [], queue: [] },
      botLog: new Map(),
      written: new Set(),
      openScript: null,
      ourRuns: { incremental: null, full: null },
      coverage: new Map(),
    };
    for (let i = 0; i < 12; i++) await applyWriter('new order', rng, world, db, bot, -1);
    await applyWriter('bot fifo nightly: completed', rng, world, db, bot, -1);

    for (let round = 0; round < ROUNDS; round++) {
      world.written.clear();
      const lotsBefore = await lotSizes(db);
      // Act: a random mix of the bot's writers...
      const forced = FORCED[round];
      const writers = Array.from({ length: rng.int(2, 6) }, () => weighted(rng, WRITERS));
      if (forced && WRITERS.some(([w]) => w === forced)) writers.push(forced as Writer);
      if (world.lateOrderRows.length > 0 && rng.chance(0.7)) {
        const order = world.lateOrderRows.shift()!;
        await record(world, bot, order);
        world.rows.set(order.orderId, order);
        count(world, 'order row after its fills, a round later');
      }
      for (const writer of writers) await applyWriter(writer, rng, world, db, bot, round);

      // ...then one of fifo-ledger's jobs, alone or while the bot writes.
      const plan: JobPlan =
        forced && JOBS.some(([j]) => j === forced) ? (forced as JobPlan) : weighted(rng, JOBS);
      count(world, plan);
      let concurrent = false;
      if (plan === 'incremental') {
        noteOurRun(world, await runIncremental(db, { version: OURS }));
      } else if (plan === 'nightly full rebuild') {
        const full = await runFullRebuild(db, { version: OURS });
        noteOurRun(world, full);
        expect(full.drift.rows, `seed ${SEED}, round ${round}: nightly drift`).toBe(0);
      } else if (plan === 'incremental while the recorder writes') {
        concurrent = true;
        const trades = Array.from({ length: rng.int(2, 5) }, () => newTrade(rng, world, rng.uuid()));
        const [result] = await Promise.all([
          runIncremental(db, { version: OURS }),
          (async () => {
            for (const t of trades) {
              await record(world, bot, t);
              world.rows.set(t.orderId, t);
            }
          })(),
        ]);
        noteOurRun(world, result);
      } else if (plan === 'incremental while the maintenance runs') {
        concurrent = true;
        const [result] = await Promise.all([runIncremental(db, { version: OURS }), startupMaintenance(bot)]);
        noteOurRun(world, result);
      } else {
        const full = plan.startsWith('nightly');
        const { result, blocked } = await whileBotTransactionOpen(
          bot,
          world,
          (): Promise<IncrementalResult | FullRebuildResult> =>
            full ? runFullRebuild(db, { version: OURS }) : runIncremental(db, { version: OURS }),
          rng.uuid(),
        );
        expect(blocked, `seed ${SEED}, round ${round}: ${plan}: fifo-ledger waited on the bot`).toBe(false);
        noteOurRun(world, result);
        if (result.mode === 'full') expect(result.drift.rows).toBe(0);
      }
      if (world.openScript && world.openScript.finishInRound <= round) {
        botWrote(world, await world.openScript.script.finish());
        world.openScript = null;
        concurrent = true;
      }
      // What the bot wrote during the job is the next run's: the 5-minute schedule's next tick.
      // Alone, a run leaves nothing pending (assessRound checks it).
      if (concurrent) {
        noteOurRun(world, await runIncremental(db, { version: OURS }));
      }

      // Lots that grew though nothing wrote their buy: a replay gave slices back to them.
      for (const [id, remaining] of await lotSizes(db)) {
        const before = lotsBefore.get(id);
        if (before !== undefined && !world.written.has(id) && Number(remaining) > Number(before)) {
          count(world, 'lots given back by a replay');
        }
      }

      // Assess
      await assessRound(db, ref, world, round);
    }

    // Every writer and every job plan was exercised, and the mirror was put back at least once.
    const missing = [
      ...WRITERS.map(([w]) => w),
      ...JOBS.map(([j]) => j),
      'mirrors restored by an incremental run',
      'lots given back by a replay',
      'unmatched sells in version 3',
      "unmatched sells in the bot's review queue",
    ].filter((what) => !world.coverage.has(what));
    expect(missing, `seed ${SEED}: not exercised`).toEqual([]);
  }, 120_000);
});
