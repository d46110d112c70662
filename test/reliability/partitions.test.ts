/**
 * The partitioned full rebuild across processes (README, "Partitioned rebuild"): its guarantees, on a real
 * PostgreSQL, with the partitions worked by separate processes (the CLI, or
 * test/support/run-partition.ts where a kill must be timed from the partition's start):
 *   1. no symbol is ever written by two processes at once;
 *   2. incremental runs keep working during a partitioned rebuild, and skip no symbol for good;
 *   3. a partition killed anywhere leaves each of its symbols as before or as after, and
 *      rerunning only the unfinished partitions completes the run;
 *   4. a rebuild into a new version is visible only once its finish succeeds.
 * Every test ends by comparing the version with a single-process rebuild of the same trades
 * into another version (canonical text of the allocations and lots: no ids, batches or times
 * of writing).
 *
 * Holding a partition at a chosen point: a trigger in the test database (not in the product)
 * makes a partition's completion (the UPDATE that marks it completed, inside the transaction
 * that commits its work, after every symbol is written) take a shared advisory lock keyed by
 * the partition's index. A test that holds that key exclusively keeps the partition's process
 * there, with its symbols locked and its work uncommitted, and sees it waiting in
 * pg_stat_activity (wait_event 'advisory'); no key held, the trigger costs nothing.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listKnownVersions } from '../../shared/jobs/health.ts';
import { type IncrementalResult, runFullRebuild, runIncremental } from '../../shared/jobs/index.ts';
import {
  finishPartitionedRebuild,
  planPartitionedRebuild,
  runRebuildPartition,
} from '../../shared/jobs/partitions/index.ts';
import { VERSIONED_TABLES } from '../../shared/legacy/versions.ts';
import { runDailyReport } from '../../shared/report/index.ts';
import { generateTrades, type SampleTrade, seededRandom } from '../../shared/sample/generator.ts';
import { insertTrades } from '../../shared/sample/load.ts';
import { type CliRun, fifo, oneLineError } from '../cli/support.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { resetTables, snapshotVersion } from '../support/fixtures.ts';
import { type PartitionProcess, spawnPartition } from '../support/run-partition.ts';

/** The version the partitioned runs build, and the one the single-process reference uses. */
const VERSION = 1;
const REFERENCE = 99;
/** The first key of the gate's advisory lock; the second is the partition's index. */
const GATE = 18_003;
/** How long a killed process's sessions may take to go away. */
const BACKEND_EXIT_MS = 10_000;

type Snapshot = Awaited<ReturnType<typeof snapshotVersion>>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` returns a value other than undefined, or fails after `ms`. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(20);
  }
}

/** Each symbol's rows of a snapshot as one canonical text. */
function bySymbol(snapshot: Snapshot): Map<string, string> {
  const rows = new Map<string, { allocations: unknown[]; lots: unknown[] }>();
  const of = (symbol: string) => {
    const entry = rows.get(symbol) ?? { allocations: [], lots: [] };
    rows.set(symbol, entry);
    return entry;
  };
  for (const a of snapshot.allocations) of(a.symbol).allocations.push(a);
  for (const l of snapshot.lots) of(l.symbol).lots.push(l);
  return new Map([...rows].map(([symbol, r]) => [symbol, JSON.stringify(r)]));
}

const EMPTY_SYMBOL = JSON.stringify({ allocations: [], lots: [] });

describe('the partitioned rebuild across processes (needs a server)', { tags: 'server' }, () => {
  let db: TestDatabase;
  const children: PartitionProcess[] = [];
  const gates: pg.Client[] = [];

  beforeAll(async () => {
    db = await createTestDatabase({ max: 6 });
    // Test-only instrumentation, see the file's comment.
    await db.pool.query(`
      CREATE FUNCTION partitions_test_gate() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_advisory_xact_lock_shared(${GATE}, NEW.partition); RETURN NEW; END $$;
      CREATE TRIGGER partitions_test_gate BEFORE UPDATE ON fifo_rebuild_partitions
        FOR EACH ROW WHEN (NEW.status = 'completed' AND OLD.status <> 'completed')
        EXECUTE FUNCTION partitions_test_gate();`);
  });
  beforeEach(async () => {
    await resetTables(db.pool);
    await db.pool.query('TRUNCATE fifo_rebuild_runs, fifo_rebuild_partitions, fifo_symbol_locks');
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.child.exitCode === null && child.child.signalCode === null) child.child.kill('SIGKILL');
    }
    for (const gate of gates.splice(0)) await gate.end().catch(() => {});
  });
  // DROP DATABASE waits for a checkpoint, which a busy shared server may take long to finish.
  afterAll(async () => {
    await db?.drop();
  }, 180_000);

  // --- helpers ---------------------------------------------------------------------------

  /** The CLI in a child process, on the test database. */
  const cli = (args: string[]) => fifo(args, { DATABASE_URL: db.url });

  /**
   * A failure's line: exit 1, no stack, and one line "fifo: ..." last on stderr (log lines such
   * as "error: ..." may come before it: README, "Progress and log lines go to stderr"); with
   * --json, stdout says failed with the same text.
   */
  function errorLine(run: CliRun): string {
    expect(run.code, run.stderr).toBe(1);
    const lines = run.stderr.split('\n').filter((l) => l !== '');
    expect(
      lines.filter((l) => l.startsWith('fifo: ')),
      run.stderr,
    ).toHaveLength(1);
    expect(
      lines.some((l) => /^\s+at /.test(l)),
      run.stderr,
    ).toBe(false);
    const line = lines.at(-1)!;
    if (run.stdout !== '') {
      expect(JSON.parse(run.stdout)).toEqual({ status: 'failed', error: line.replace(/^fifo: /, '') });
    }
    return line;
  }

  function json(run: CliRun): Record<string, unknown> {
    expect(run.code, `${run.stderr}${run.stdout}`).toBe(0);
    return JSON.parse(run.stdout) as Record<string, unknown>;
  }

  /** `fifo full --plan K` (the CLI's own output is tested in test/cli). */
  async function planInProcess(version: number, k: number): Promise<{ runId: string; symbols: string[][] }> {
    const planned = await planPartitionedRebuild(db, { version, partitions: k, triggeredBy: 'test' });
    expect(planned.partitions).toHaveLength(k);
    return { runId: planned.runId, symbols: await partitionSymbols(planned.runId) };
  }

  async function partitionSymbols(runId: string): Promise<string[][]> {
    const { rows } = await db.pool.query<{ symbols: string[] }>(
      'SELECT symbols FROM fifo_rebuild_partitions WHERE run_id = $1::uuid ORDER BY partition',
      [runId],
    );
    return rows.map((r) => r.symbols);
  }

  async function partitionRow(runId: string, partition: number) {
    const { rows } = await db.pool.query<{
      status: string;
      attempts: number;
      backend_pid: number | null;
      lease_left_ms: number | null;
      backend_alive: boolean;
    }>(
      `SELECT status, attempts, backend_pid,
         (extract(epoch FROM lease_expires_at - now()) * 1000)::int AS lease_left_ms,
         EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = p.backend_pid) AS backend_alive
       FROM fifo_rebuild_partitions p WHERE run_id = $1::uuid AND partition = $2`,
      [runId, partition],
    );
    return rows[0]!;
  }

  /** Holds the gate of `partition`: its process stops where it marks the partition completed. */
  async function holdGate(partition: number): Promise<{ release(): Promise<void> }> {
    const session = new pg.Client({ connectionString: db.url, application_name: 'partitions-test-gate' });
    await session.connect();
    gates.push(session);
    await session.query('SELECT pg_advisory_lock($1, $2)', [GATE, partition]);
    return {
      async release() {
        await session.query('SELECT pg_advisory_unlock($1, $2)', [GATE, partition]);
      },
    };
  }

  /**
   * Waits until the process working `partition` stands at the gate: its claiming session (the
   * one that holds the symbols and writes) waits for the gate's advisory lock. Returns its pid.
   */
  function atGate(runId: string, partition: number): Promise<number> {
    return waitFor(`partition ${partition} at the gate`, async () => {
      const { rows } = await db.pool.query<{ pid: number }>(
        `SELECT a.pid FROM fifo_rebuild_partitions p JOIN pg_stat_activity a ON a.pid = p.backend_pid
         WHERE p.run_id = $1::uuid AND p.partition = $2 AND p.status = 'running'
           AND a.wait_event_type = 'Lock' AND a.wait_event = 'advisory'`,
        [runId, partition],
      );
      return rows[0]?.pid;
    });
  }

  /** Waits until the process working `partition` has locked its symbols (its transaction has an xid). */
  function holdingSymbols(runId: string, partition: number): Promise<true> {
    return waitFor(`partition ${partition} holding its symbols`, async () => {
      const { rows } = await db.pool.query(
        `SELECT 1 FROM fifo_rebuild_partitions p JOIN pg_stat_activity a ON a.pid = p.backend_pid
         WHERE p.run_id = $1::uuid AND p.partition = $2 AND p.status = 'running' AND a.backend_xid IS NOT NULL`,
        [runId, partition],
      );
      return rows.length > 0 ? true : undefined;
    });
  }

  /**
   * Which of `symbols` another transaction holds the row lock of, tried from a session of the
   * test (FOR UPDATE NOWAIT, rolled back: nothing is taken).
   */
  async function heldSymbols(version: number, symbols: readonly string[]): Promise<string[]> {
    const session = await db.pool.connect();
    const held: string[] = [];
    try {
      for (const symbol of symbols) {
        await session.query('BEGIN');
        try {
          await session.query(
            'SELECT 1 FROM fifo_symbol_locks WHERE allocation_version = $1 AND symbol = $2 FOR UPDATE NOWAIT',
            [version, symbol],
          );
        } catch (error) {
          if ((error as { code?: string }).code !== '55P03') throw error;
          held.push(symbol);
        }
        await session.query('ROLLBACK');
      }
    } finally {
      session.release();
    }
    return held;
  }

  /** Pending changes of the version, per symbol. */
  async function pendingBySymbol(version: number): Promise<Map<string, number>> {
    const { rows } = await db.pool.query<{ symbol: string; n: number }>(
      `SELECT symbol, count(*)::int AS n FROM fifo_trade_changes WHERE allocation_version = $1 GROUP BY symbol`,
      [version],
    );
    return new Map(rows.map((r) => [r.symbol, r.n]));
  }

  async function wipeVersion(version: number): Promise<void> {
    for (const table of VERSIONED_TABLES) {
      await db.pool.query(`DELETE FROM ${table} WHERE allocation_version = $1`, [version]);
    }
  }

  /** A fresh single-process rebuild (partitions 1) of the current trades into REFERENCE. */
  async function referenceRebuild(): Promise<Snapshot> {
    await wipeVersion(REFERENCE);
    const run = await runFullRebuild(db, { version: REFERENCE, partitions: 1, triggeredBy: 'reference' });
    expect(run.status).toBe('completed');
    const snapshot = await snapshotVersion(db.pool, REFERENCE);
    // Unregistered, so that change capture does not write changes for it from now on.
    await db.pool.query('DELETE FROM fifo_versions WHERE allocation_version = $1', [REFERENCE]);
    return snapshot;
  }

  /** The version equals a fresh single-process rebuild, holds no duplicate and has nothing pending. */
  async function expectEqualsFreshRebuild(version: number, reference?: Snapshot): Promise<void> {
    const expected = reference ?? (await referenceRebuild());
    const actual = await snapshotVersion(db.pool, version);
    expect(actual.allocations.length).toBeGreaterThan(0);
    // Compared as text first: a mismatch then prints the readable difference.
    if (JSON.stringify(actual) !== JSON.stringify(expected)) expect(actual).toEqual(expected);
    const { rows } = await db.pool.query<{ allocations: number; lots: number; pending: number }>(
      `SELECT
         (SELECT count(*) - count(DISTINCT (sell_order_id, coalesce(buy_order_id, '')))
          FROM fifo_allocations WHERE allocation_version = $1)::int AS allocations,
         (SELECT count(*) - count(DISTINCT buy_order_id) FROM fifo_lots WHERE allocation_version = $1)::int AS lots,
         (SELECT count(*) FROM fifo_trade_changes WHERE allocation_version = $1)::int AS pending`,
      [version],
    );
    expect(rows[0]).toEqual({ allocations: 0, lots: 0, pending: 0 });
  }

  /** The time of the latest trade, for fills that come after the history. */
  async function lastTradeTime(): Promise<number> {
    const { rows } = await db.pool.query<{ t: Date }>('SELECT max(order_time) AS t FROM trade_records');
    return rows[0]!.t.getTime();
  }

  /**
   * New fills after the history, a buy and a partial sell per symbol, with order ids unique
   * to `tag`: every symbol named gets a change, a sell and an allocation.
   */
  async function newFills(tag: string, symbols: readonly string[], at: number): Promise<SampleTrade[]> {
    const fills = symbols.flatMap((symbol, k): SampleTrade[] => [
      {
        order_id: `${tag}-${k}-buy`,
        symbol,
        side: 'buy',
        order_time: new Date(at + 1000 * k).toISOString(),
        price: '101.5',
        size: '2',
        fee: '0.01',
      },
      {
        order_id: `${tag}-${k}-sell`,
        symbol,
        side: 'sell',
        order_time: new Date(at + 1000 * k + 500).toISOString(),
        price: '102.25',
        size: '1.5',
        fee: '0.01',
      },
    ]);
    await insertTrades(db.pool, fills);
    return fills;
  }

  // --- 1 ---------------------------------------------------------------------------------

  it('no symbol is written by two processes at once: a second claim is refused, an incremental run defers exactly the held symbols', {
    timeout: 90_000,
  }, async () => {
    // Why: the lease and the per-symbol row locks replace the version's session lock, which
    // cannot span processes; a second writer of a symbol would duplicate or lose its slices.
    // Prepare: a built version and a run of 2 partitions; partition 0's gate held.
    await insertTrades(db.pool, [...generateTrades({ trades: 4_000, symbols: 6, seed: 181 })]);
    expect((await runFullRebuild(db, { version: VERSION, triggeredBy: 'initial' })).status).toBe('completed');
    const { runId, symbols } = await planInProcess(VERSION, 2);
    const [held, free] = symbols as [string[], string[]];
    expect(held.length).toBeGreaterThan(0);
    expect(free.length).toBeGreaterThan(0);
    const gate = await holdGate(0);

    // Act: two processes claim partition 0 at the same moment.
    const claims = [0, 1].map((i) =>
      cli(['full', '--run', runId, '--partition', '0', '--json']).then((run) => ({ i, run })),
    );
    const refused = await Promise.race(claims);
    const workerPid = await atGate(runId, 0);

    // Assess: one was refused with one clear line naming the holder; the other works it.
    expect(oneLineError(refused.run)).toMatch(
      new RegExp(
        `^fifo: partition 0 of run ${runId} is held by cli pid \\d+ #[0-9a-f]{8} until \\d{4}-\\d\\d-\\d\\dT`,
      ),
    );
    const row = await partitionRow(runId, 0);
    expect(row).toMatchObject({
      status: 'running',
      attempts: 1,
      backend_pid: workerPid,
      backend_alive: true,
    });
    // It holds every symbol of its partition, and none of the other's.
    expect(await heldSymbols(VERSION, [...held, ...free])).toEqual(held);

    // Act: the bot trades every symbol; an incremental run and a single-process rebuild start.
    await newFills('during', [...held, ...free], (await lastTradeTime()) + 60_000);
    const during = await runIncremental(db, { version: VERSION, triggeredBy: 'during-partition' });
    const rebuild = await runFullRebuild(db, {
      version: VERSION,
      triggeredBy: 'rebuild-during-partition',
    }).then(
      () => 'completed',
      (error: Error) => `${error.name}: ${error.message}`,
    );

    // Assess: the incremental run deferred exactly the held symbols and did the others.
    expect(during).toMatchObject({ status: 'completed', symbolsDeferred: held.length });
    expect(during.changesConsumed).toBe(2 * free.length);
    expect([...(await pendingBySymbol(VERSION)).keys()].sort()).toEqual([...held].sort());
    expect(rebuild).toMatch(
      `LockBusyError: busy: partitioned rebuild ${runId} of version ${VERSION} has 1 partition(s) at work`,
    );

    // Act: the partition commits; the next incremental run; the rest of the run.
    await gate.release();
    const worked = (await Promise.all(claims)).find((c) => c.i !== refused.i)!;
    const after = await runIncremental(db, { version: VERSION, triggeredBy: 'after-partition' });
    const again = await runRebuildPartition(db, { runId, partition: 0 });
    const other = await runRebuildPartition(db, { runId, partition: 1 });
    const finished = await finishPartitionedRebuild(db, { runId });

    // Assess: the deferred symbols were processed by the next run; a claim of a completed
    // partition does nothing; the version equals a single-process rebuild.
    expect(json(worked.run)).toMatchObject({ status: 'completed', partition: 0, symbols: held.length });
    expect(after).toMatchObject({
      status: 'completed',
      symbolsDeferred: 0,
      changesConsumed: 2 * held.length,
    });
    expect(again).toMatchObject({ status: 'already-completed', partition: 0 });
    expect(other).toMatchObject({ status: 'completed', partition: 1 });
    expect(finished).toMatchObject({
      status: 'completed',
      partitions: { total: 2, completed: 2, unfinished: [] },
    });
    expect((await partitionRow(runId, 0)).attempts).toBe(1);
    await expectEqualsFreshRebuild(VERSION);
  });

  // --- 2 ---------------------------------------------------------------------------------

  it('incremental runs keep working while partitions rebuild in other processes, and skip no symbol for good', {
    timeout: 120_000,
  }, async () => {
    // Why: the nightly rebuild now takes many minutes across Lambdas; the 5-minute runs must
    // go on meanwhile, and a symbol they defer must not wait for a run that never takes it.
    // Prepare: a built history of 20 symbols, then a run of 2 partitions. Partition 0's gate
    // is held, so that it is still at work however fast it goes; partition 1 runs freely.
    await insertTrades(db.pool, [...generateTrades({ trades: 12_000, symbols: 20, seed: 182 })]);
    expect((await runFullRebuild(db, { version: VERSION, triggeredBy: 'initial' })).status).toBe('completed');
    const { runId, symbols } = await planInProcess(VERSION, 2);
    const [p0, p1] = symbols as [string[], string[]];
    const gate = await holdGate(0);
    const random = seededRandom(182);
    const pick = (from: readonly string[]) => from[Math.floor(random() * from.length)]!;
    let at = (await lastTradeTime()) + 60_000;
    interface Round {
      readonly incremental: IncrementalResult;
      /** Pending changes per symbol after the run. */
      readonly pending: Map<string, number>;
      /** Partition 0's gate was held the whole round: it held its symbols throughout. */
      readonly p0Held: boolean;
      /** Partition 0 was not completed when the round began: it may have held its symbols. */
      readonly p0Open: boolean;
      /** Partition 1 was not completed when the round began: it may have held its symbols. */
      readonly p1Open: boolean;
      /** The partitions' symbols given fills in this round. */
      readonly touched: { readonly p0: string; readonly p1: string };
    }
    const rounds: Round[] = [];
    /** One round of the bot's activity and an incremental run. */
    const round = async (p0Held: boolean) => {
      const k = rounds.length;
      const touched = { p0: pick(p0), p1: pick(p1) };
      const p0Open = (await partitionRow(runId, 0)).status !== 'completed';
      const p1Open = (await partitionRow(runId, 1)).status !== 'completed';
      // New fills in each partition and in a symbol no partition has (new since the plan),
      // and a fill dated inside the history (the symbol replays from there).
      await newFills(`r${k}`, [touched.p0, touched.p1, 'NEWCOIN-USD'], at);
      at += 60_000;
      await db.pool.query(
        `INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, total_fees_usd, status, "trigger")
         SELECT $1, symbol, 'buy', order_time - interval '1 second', price, size / 3, 0.01, 'filled', '{}'::jsonb
         FROM trade_records WHERE symbol = $2 ORDER BY order_time, order_id OFFSET $3 LIMIT 1`,
        [`r${k}-late`, k % 2 === 0 ? touched.p0 : touched.p1, 100 + k * 37],
      );
      const incremental = await runIncremental(db, { version: VERSION, triggeredBy: `during-${k}` });
      const pending = await pendingBySymbol(VERSION);
      rounds.push({ incremental, pending, p0Held, p0Open, p1Open, touched });
    };

    // Act: both partitions start in their own processes; once partition 0 holds its symbols,
    // the bot trades and incremental runs loop until partition 1 is done and partition 0 has
    // been deferred at least twice; then partition 0 may commit, and the loop goes on until it has.
    const workers = [0, 1].map((i) => cli(['full', '--run', runId, '--partition', String(i), '--json']));
    let p1Done = false;
    void workers[1]!.then(() => {
      p1Done = true;
    });
    await holdingSymbols(runId, 0);
    while (!p1Done || rounds.length < 2) await round(true);
    await gate.release();
    let p0Done = false;
    void workers[0]!.then(() => {
      p0Done = true;
    });
    while (!p0Done) await round(false);
    const results = await Promise.all(workers);
    const finished = await cli(['full', '--finish', runId, '--json']);
    const last = await runIncremental(db, { version: VERSION, triggeredBy: 'after-finish' });

    // Assess: every run completed; while partition 0 held its symbols each run deferred them
    // and left exactly their changes; the symbol outside the partitions was never deferred.
    expect(results.map((r) => json(r).status)).toEqual(['completed', 'completed']);
    expect(json(finished)).toMatchObject({ status: 'completed', partitions: { unfinished: [] } });
    expect(rounds.every((r) => r.incremental.status === 'completed')).toBe(true);
    const whileHeld = rounds.filter((r) => r.p0Held);
    expect(whileHeld.length).toBeGreaterThanOrEqual(2);
    const touchedInP0 = new Set<string>();
    for (const r of rounds) {
      // What stays pending is what a partition held: never the new symbol, never a symbol
      // of a completed partition; while partition 0 held, every one of its symbols with fills.
      const allowed = new Set([...(r.p0Open ? p0 : []), ...(r.p1Open ? p1 : [])]);
      for (const symbol of r.pending.keys()) expect(allowed, `pending ${symbol}`).toContain(symbol);
      expect(r.pending.size).toBeLessThanOrEqual(r.incremental.symbolsDeferred);
      expect(r.incremental.tradesProcessed).toBeGreaterThan(0);
      if (r.p0Held) {
        touchedInP0.add(r.touched.p0);
        for (const symbol of touchedInP0) expect(r.pending.has(symbol), symbol).toBe(true);
      }
    }
    expect(last).toMatchObject({ status: 'completed', symbolsDeferred: 0 });
    console.info(
      `incremental runs during the partitioned rebuild: ${rounds.length} (${whileHeld.length} with partition 0 held); ` +
        `${rounds.filter((r) => r.p1Open).length} begun before partition 1 completed; ` +
        `symbols deferred per run ${JSON.stringify(rounds.map((r) => r.incremental.symbolsDeferred))}; ` +
        `partition 0 had ${p0.length} symbols, partition 1 ${p1.length}`,
    );
    // Nothing skipped for good: the version equals a single-process rebuild.
    await expectEqualsFreshRebuild(VERSION);
  });

  // --- 3 ---------------------------------------------------------------------------------

  it('a partition killed at random points leaves each symbol as before or as after, and rerunning only the unfinished completes the run', {
    timeout: 150_000,
  }, async () => {
    // Why: a partition dies with its Lambda or its container (timeout, OOM, redeploy); the
    // version must never hold half a symbol, and the rerun must not wait for a dead lease.
    // Prepare: a history of 6 symbols, 2 partitions of 3 symbols. Each round first works the
    // other partition (in this process), then starts the target partition in a child process
    // and kills it. Rounds alternate between a version that stores damaged rows and
    // pending changes (before and after differ in every symbol) and a first build into a new
    // version (before: no rows).
    const K = 2;
    await insertTrades(db.pool, [...generateTrades({ trades: 3_000, symbols: 6, seed: 183 })]);
    expect((await runFullRebuild(db, { version: VERSION, triggeredBy: 'initial' })).status).toBe('completed');
    const random = seededRandom(183);
    let reference: Snapshot | null = null;
    let at = (await lastTradeTime()) + 60_000;

    /** Damage in every symbol of the version: a missing and an altered slice, a missing lot. */
    const damage = async (version: number) => {
      await db.pool.query(
        `DELETE FROM fifo_allocations WHERE id IN
           (SELECT min(id) FROM fifo_allocations WHERE allocation_version = $1 GROUP BY symbol)`,
        [version],
      );
      await db.pool.query(
        `UPDATE fifo_allocations SET pnl_usd = pnl_usd + 1 WHERE id IN
           (SELECT max(id) FROM fifo_allocations WHERE allocation_version = $1 GROUP BY symbol)`,
        [version],
      );
      await db.pool.query(
        `DELETE FROM fifo_lots WHERE allocation_version = $1 AND (symbol, buy_order_id) IN
           (SELECT symbol, max(buy_order_id) FROM fifo_lots WHERE allocation_version = $1 GROUP BY symbol)`,
        [version],
      );
    };

    /**
     * When the kill lands: not at all, at once, while it works (holding its symbols), at the
     * commit (the gate), or after N ms.
     */
    type Kill = 'none' | 'start' | 'working' | 'gate' | number;
    interface Round {
      readonly round: number;
      readonly kill: Kill;
      readonly target: number;
      readonly version: number;
      /** The bot traded every symbol since the last round (pending changes; VERSION only). */
      readonly fills: boolean;
      /** The partition's state after the kill. */
      outcome?: 'unclaimed' | 'claimed' | 'completed';
      phase?: string;
    }

    /** What the child's sessions are doing, from the server's side, at the kill. */
    const phaseOf = async (app: string): Promise<string> => {
      const { rows } = await db.pool.query<{ state: string | null; wait: string | null; query: string }>(
        `SELECT state, wait_event AS wait, left(ltrim(query), 30) AS query FROM pg_stat_activity
         WHERE application_name = $1`,
        [app],
      );
      const active = rows.filter((x) => x.state === 'active');
      if (active.some((x) => x.wait === 'advisory')) return 'at-commit';
      if (active.some((x) => /^(INSERT|UPDATE|DELETE|COPY fifo)/i.test(x.query))) return 'writing';
      if (active.some((x) => /^(COPY|SELECT|WITH|FETCH)/i.test(x.query))) return 'reading';
      if (rows.some((x) => x.state?.startsWith('idle in transaction'))) return 'computing';
      return active.length > 0 ? 'working' : rows.length > 0 ? 'starting' : 'ended';
    };

    /**
     * One round: prepares the state before, works the other partitions, starts the target in
     * its (already loaded) process and kills it, checks what the kill left, reruns what finish
     * reports unfinished and finishes. Returns the target's run time, from its start to its exit.
     */
    const crashRound = async (r: Round, child: PartitionProcess, app: string): Promise<number> => {
      // Prepare: the state before the run, per symbol, and what a single-process rebuild gives.
      if (r.version === VERSION) {
        if (r.fills) {
          const { rows } = await db.pool.query<{ symbol: string }>(
            'SELECT DISTINCT symbol FROM trade_records ORDER BY 1',
          );
          await newFills(
            `crash-${r.round}`,
            rows.map((s) => s.symbol),
            at,
          );
          at += 60_000;
          reference = null;
        }
        await damage(VERSION);
      } else {
        await wipeVersion(r.version);
      }
      reference ??= await referenceRebuild();
      const after = bySymbol(reference);
      const planned = await planPartitionedRebuild(db, {
        version: r.version,
        partitions: K,
        triggeredBy: `crash-${r.round}`,
      });
      const runId = planned.runId;
      const targetSymbols = (await partitionSymbols(runId))[r.target]!;
      const before = bySymbol(await snapshotVersion(db.pool, r.version));
      const pendingBefore = await pendingBySymbol(r.version);
      expect(targetSymbols.length).toBeGreaterThan(0);
      for (const s of targetSymbols) expect(before.get(s) ?? EMPTY_SYMBOL).not.toBe(after.get(s));
      for (let i = 0; i < K; i++) {
        if (i === r.target) continue;
        const other = await runRebuildPartition(db, { runId, partition: i, holder: 'test other' });
        expect(other.status).toBe('completed');
      }
      const gate = r.kill === 'gate' || r.kill === 'working' ? await holdGate(r.target) : null;

      // Act: start the target partition in its process and kill it.
      await child.ready;
      const started = Date.now();
      child.start({ runId, partition: r.target });
      if (r.kill === 'gate') await atGate(runId, r.target);
      else if (r.kill === 'working') await holdingSymbols(runId, r.target);
      else if (typeof r.kill === 'number') await sleep(r.kill);
      r.phase = r.kill === 'none' ? 'none' : await phaseOf(app);
      if (r.kill !== 'none') child.child.kill('SIGKILL');
      const exit = await child.exited;
      const runMs = Date.now() - started;
      await gate?.release();
      await waitFor(
        `the sessions of ${app} to go away`,
        async () => {
          const { rows } = await db.pool.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
            [app],
          );
          return rows[0]!.n === 0 ? true : undefined;
        },
        BACKEND_EXIT_MS,
      );
      // Not killed (or it ended before the kill): it completed.
      if (exit.signal !== 'SIGKILL') expect(exit.code, exit.stderr).toBe(0);

      // Assess: each of the partition's symbols is as before or as after, all the same way and
      // as the partition's status says; so are its pending changes.
      const row = await partitionRow(runId, r.target);
      r.outcome = row.status === 'completed' ? 'completed' : row.attempts > 0 ? 'claimed' : 'unclaimed';
      if (r.kill === 'gate' || r.kill === 'working') expect(r.outcome).toBe('claimed');
      const now = bySymbol(await snapshotVersion(db.pool, r.version));
      const pendingNow = await pendingBySymbol(r.version);
      for (const s of targetSymbols) {
        const state = now.get(s) ?? EMPTY_SYMBOL;
        const expected = r.outcome === 'completed' ? after.get(s) : (before.get(s) ?? EMPTY_SYMBOL);
        const which =
          state === after.get(s)
            ? 'after'
            : state === (before.get(s) ?? EMPTY_SYMBOL)
              ? 'before'
              : 'in between';
        expect(which, `round ${JSON.stringify(r)}: ${s}`).not.toBe('in between');
        expect(state === expected, `round ${JSON.stringify(r)}: ${s} is ${which}`).toBe(true);
        expect(pendingNow.get(s) ?? 0).toBe(r.outcome === 'completed' ? 0 : (pendingBefore.get(s) ?? 0));
      }
      if (r.outcome === 'claimed') {
        // The dead holder's lease has not run out, but its session is gone.
        expect(row).toMatchObject({ status: 'running', backend_alive: false });
        expect(row.lease_left_ms).toBeGreaterThan(10_000);
      }

      // Act: finish (it reports what is unfinished), rerun only that, finish again.
      const first = await finishPartitionedRebuild(db, { runId, triggeredBy: `crash-${r.round}` });
      const reruns = [];
      for (const i of first.partitions.unfinished) {
        reruns.push(await runRebuildPartition(db, { runId, partition: i, holder: 'test rerun' }));
      }
      const second = first.status === 'completed' ? first : await finishPartitionedRebuild(db, { runId });

      // Assess: the unfinished partition is the killed one, unless its work had committed;
      // its rerun is not refused for the dead lease; the run equals a single-process rebuild.
      expect(first.partitions.unfinished).toEqual(r.outcome === 'completed' ? [] : [r.target]);
      if (first.status === 'failed') {
        const { rows } = await db.pool.query<{ error: string }>(
          'SELECT error_message AS error FROM fifo_computation_log WHERE id = $1',
          [first.runId],
        );
        expect(rows[0]!.error).toContain(`partition(s) ${r.target} of ${K} did not complete`);
        expect(rows[0]!.error).toContain(`fifo full --run ${runId} --partition I`);
      }
      expect(reruns.map((x) => x.status)).toEqual(first.partitions.unfinished.map(() => 'completed'));
      expect(second.status).toBe('completed');
      await expectEqualsFreshRebuild(r.version, reference);
      if (r.version !== VERSION) await wipeVersion(r.version);
      return runMs;
    };

    // Act: a calibration round, not killed, measures the target's run. Then kills: at its
    // start; while it works (seen holding its symbols, the gate held so that it cannot commit
    // first); at its commit (at the gate); and at seeded random delays over the run and a
    // little beyond. Damaged-version rounds alternate with first builds; two of them also
    // bring the bot's new fills (pending changes). Each child loads while the round before
    // is checked.
    const schedule: { kill: Kill | 'random'; at?: number; first: boolean; fills?: boolean }[] = [
      { kill: 'none', first: false, fills: true },
      { kill: 'start', first: true },
      { kill: 'working', first: false },
      { kill: 'gate', first: true },
      { kill: 'random', at: 0.3, first: false, fills: true },
      { kill: 'random', at: 0.6, first: true },
      { kill: 'random', at: 0.9, first: false },
    ];
    const spawnChild = (round: number) => {
      const app = `partitions-crash-${round}`;
      // The server notices a dead client while it waits for a lock only when told to poll.
      const env = { PGOPTIONS: '-c client_connection_check_interval=10ms' };
      const child = spawnPartition(db.url, null, { app, wait: true, env });
      children.push(child);
      return { child, app };
    };
    const rounds: Round[] = [];
    let runMs = 0;
    let next = spawnChild(0);
    for (let k = 0; k < schedule.length; k++) {
      const current = next;
      const planned = schedule[k]!;
      const kill: Kill =
        planned.kill === 'random' ? Math.floor(runMs * (planned.at! + 0.2 * (random() - 0.5))) : planned.kill;
      const r: Round = {
        round: k,
        kill,
        target: k % K,
        version: planned.first ? 100 + k : VERSION,
        fills: planned.fills ?? false,
      };
      if (k + 1 < schedule.length) next = spawnChild(k + 1);
      const ms = await crashRound(r, current.child, current.app);
      if (kill === 'none') runMs = ms;
      rounds.push(r);
    }

    // Assess: the kills landed before the claim, while the work ran and at the commit, and
    // the ones whose point was observed left the partition claimed and uncommitted.
    console.info(
      `partition kills over a ${runMs} ms run (kill: phase: outcome): ` +
        rounds.map((r) => `${r.kill}: ${r.phase}: ${r.outcome}`).join(', '),
    );
    expect(rounds.find((r) => r.kill === 'working')!.outcome).toBe('claimed');
    expect(rounds.find((r) => r.kill === 'gate')).toMatchObject({ outcome: 'claimed', phase: 'at-commit' });
  });

  // --- 4 ---------------------------------------------------------------------------------

  it('a rebuild into a new version beside the active one is visible only once its finish succeeds', {
    timeout: 90_000,
  }, async () => {
    // Why: a version half built by its partitions would report half the PnL as if it were all;
    // the report and health must refuse it, and say which run makes it whole.
    // Prepare: version 1 built and active; a run of 3 partitions planned into version 2.
    const NEW = 2;
    await insertTrades(db.pool, [...generateTrades({ trades: 3_000, symbols: 6, seed: 184 })]);
    expect((await runFullRebuild(db, { version: VERSION, triggeredBy: 'initial' })).status).toBe('completed');
    const { runId } = await planInProcess(NEW, 3);
    const refusal = (completed: number) =>
      `version ${NEW} is being built by partitioned run ${runId} (${completed} of 3 partitions completed); ` +
      `it is shown once fifo full --finish ${runId} succeeds`;
    /** What the version list, the report and (with `health`) `fifo health` say of the new version now. */
    const visibility = async (health = true) => {
      const [versions, report, cliHealth] = await Promise.all([
        listKnownVersions(db.pool),
        runDailyReport(db, { version: NEW }).then(
          (r) => ({ ok: true as const, version: r.model.version }),
          (error: Error) => ({ ok: false as const, error: `${error.name}: ${error.message}` }),
        ),
        health ? cli(['health', '--version', String(NEW), '--json']) : null,
      ]);
      return { versions, report, health: cliHealth! };
    };

    // Act: partition 0 completes in its process; a finish that finds the others unfinished.
    const p0 = await cli(['full', '--run', runId, '--partition', '0', '--json']);
    const [early, afterOne] = await Promise.all([cli(['full', '--finish', runId, '--json']), visibility()]);
    const { rows: stored } = await db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM fifo_allocations WHERE allocation_version = $1',
      [NEW],
    );

    // Assess: its rows exist, yet nothing shows the version; each refusal names the run.
    expect(json(p0)).toMatchObject({ status: 'completed', partition: 0 });
    expect(errorLine(early)).toBe(
      `fifo: run ${runId}: 2 partitions of 3 not completed (1, 2); ` +
        `run fifo full --run ${runId} --partition I for each, then fifo full --finish ${runId} again`,
    );
    expect(stored[0]!.n).toBeGreaterThan(0);
    expect(afterOne.versions).toEqual([VERSION]);
    expect(afterOne.report).toEqual({ ok: false, error: `ConfigError: ${refusal(1)}` });
    expect(oneLineError(afterOne.health)).toBe(`fifo: ${refusal(1)}`);

    // Act: the other partitions complete, in two processes at once; not finished yet.
    const rest = await Promise.all(
      [1, 2].map((i) => cli(['full', '--run', runId, '--partition', String(i), '--json'])),
    );
    const allCompleted = await visibility(false);

    // Assess: every partition completed, still hidden until finish.
    expect(rest.map((r) => json(r).status)).toEqual(['completed', 'completed']);
    expect(allCompleted.versions).toEqual([VERSION]);
    expect(allCompleted.report).toEqual({ ok: false, error: `ConfigError: ${refusal(3)}` });

    // Act: finish.
    const finished = await cli(['full', '--finish', runId, '--json']);
    const visible = await visibility();

    // Assess: now listed, reported and healthy-or-judged, and equal to the active version.
    expect(json(finished)).toMatchObject({
      status: 'completed',
      version: NEW,
      partitions: { unfinished: [] },
    });
    expect(visible.versions).toEqual([VERSION, NEW]);
    expect(visible.report).toEqual({ ok: true, version: NEW });
    expect([0, 2, 3], visible.health.stderr).toContain(visible.health.code);
    expect(JSON.parse(visible.health.stdout)).toMatchObject({ version: NEW });
    expect(await snapshotVersion(db.pool, NEW)).toEqual(await snapshotVersion(db.pool, VERSION));
  });
});
