/**
 * Overlaps and duplicates (docs/reliability.md §3, §6): many incremental runs at once, a full rebuild
 * beside an incremental run, and one scheduled event delivered twice to the Lambda handler.
 * Each must leave the version equal to a clean full rebuild of another version, with no
 * duplicate rows, whoever wins the version's lock.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../functions/incremental/index.ts';
import { type Database, openDatabase } from '../../shared/db/pool.ts';
import {
  type FullRebuildResult,
  type IncrementalResult,
  readHealth,
  runFullRebuild,
  runIncremental,
} from '../../shared/jobs/index.ts';
import { generateTrades } from '../../shared/sample/generator.ts';
import { insertTrades } from '../../shared/sample/load.ts';
import { captureStdout, fakeContext, resetContainer, useHandlerEnvironment } from '../functions/support.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { resetTables, snapshotVersion } from '../support/fixtures.ts';

const SCHEDULED = {
  scheduledTime: '2026-03-01T12:05:00Z',
  scheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/default/FifoLedger-IncrementalSchedule',
  attempt: '1',
};

describe('overlapping runs (needs a server: several sessions)', { tags: 'server' }, () => {
  let db: TestDatabase;
  /** Separate pools, as separate Lambda containers or CLI processes have. */
  let pools: Database[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });
  beforeEach(async () => {
    await resetTables(db.pool);
  });
  afterEach(async () => {
    await Promise.all(pools.map((p) => p.close()));
    pools = [];
  });

  async function openPools(count: number): Promise<Database[]> {
    const opened = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        openDatabase({ connectionString: db.url, max: 2, applicationName: `fifo-overlap-${i}` }),
      ),
    );
    pools.push(...opened);
    return opened;
  }

  /** A built history, then the bot's activity since: new fills, a late fill, a correction, a cancellation. */
  async function historyWithPendingChanges(seed: number): Promise<void> {
    await insertTrades(db.pool, [...generateTrades({ trades: 3_000, symbols: 4, seed })]);
    await runFullRebuild(db, { version: 1 });
    await insertTrades(db.pool, [
      ...generateTrades({ trades: 300, symbols: 4, seed: seed + 1, start: '2026-06-01T00:00:00Z' }),
    ]);
    await db.pool.query(
      `INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, total_fees_usd, status, "trigger")
       SELECT 'late-' || order_id, symbol, 'buy', order_time - interval '1 second', price, size, 0, 'filled', '{}'::jsonb
       FROM trade_records ORDER BY order_time OFFSET 100 LIMIT 1`,
    );
    await db.pool.query(
      `UPDATE trade_records SET size = size / 2 WHERE order_id = (SELECT order_id FROM trade_records ORDER BY order_time OFFSET 700 LIMIT 1)`,
    );
    await db.pool.query(
      `DELETE FROM trade_records WHERE order_id = (SELECT order_id FROM trade_records ORDER BY order_time OFFSET 1500 LIMIT 1)`,
    );
  }

  /** Version 1 equals a clean full rebuild of version 2, and holds no duplicate. */
  async function expectCorrect(): Promise<void> {
    await runFullRebuild(db, { version: 2 });
    const built = await snapshotVersion(db.pool, 1);
    expect(built.allocations.length).toBeGreaterThan(0);
    expect(built).toEqual(await snapshotVersion(db.pool, 2));
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n, count(DISTINCT (sell_order_id, coalesce(buy_order_id, '')))::int AS distinct
       FROM fifo_allocations WHERE allocation_version = 1`,
    );
    expect(rows[0].n).toBe(rows[0].distinct);
    const health = await readHealth(db.pool, 1);
    expect(health).toMatchObject({ pendingChanges: 0, abandonedRuns: 0, runInProgress: false });
  }

  it('10 concurrent incremental runs: one does the work, the others skip or find nothing left', async () => {
    // Why: overlapping schedules, retries and manual runs must never allocate a change twice.
    // Prepare
    await historyWithPendingChanges(21);
    const pending = (await readHealth(db.pool, 1)).pendingChanges;
    const sessions = await openPools(10);

    // Act
    const results = await Promise.all(
      sessions.map((session, i) => runIncremental(session, { version: 1, triggeredBy: `overlap-${i}` })),
    );

    // Assess
    expect(pending).toBeGreaterThan(300);
    const completed = results.filter((r) => r.status === 'completed');
    const skipped = results.filter((r) => r.status === 'skipped');
    expect(completed.length + skipped.length).toBe(10);
    // They did overlap: started together, some found the version's lock taken.
    expect(skipped.length).toBeGreaterThan(0);
    expect(completed.filter((r) => r.changesConsumed > 0)).toHaveLength(1);
    expect(completed.reduce((sum, r) => sum + r.changesConsumed, 0)).toBe(pending);
    expect(completed.filter((r) => r.changesConsumed === 0).every((r) => r.allocationsCreated === 0)).toBe(
      true,
    );
    const { rows } = await db.pool.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM fifo_computation_log WHERE triggered_by LIKE 'overlap-%' GROUP BY status`,
    );
    expect(Object.fromEntries(rows.map((r) => [r.status, r.n]))).toEqual({
      completed: completed.length,
      ...(skipped.length > 0 ? { skipped: skipped.length } : {}),
    });
    await expectCorrect();
  });

  it('a full rebuild and an incremental run started together, at several offsets, agree', async () => {
    // Why: the nightly rebuild can start while a 5-minute run is still going (and the reverse).
    // Prepare
    await historyWithPendingChanges(31);
    const [first, second] = await openPools(2);
    const outcomes: string[] = [];

    for (const [offsetMs, fullFirst] of [
      [0, true],
      [0, false],
      [15, true],
      [15, false],
      [60, true],
    ] as const) {
      // Act
      const late = (run: () => Promise<FullRebuildResult | IncrementalResult>) =>
        new Promise<FullRebuildResult | IncrementalResult>((resolve, reject) => {
          setTimeout(() => run().then(resolve, reject), offsetMs);
        });
      const full = () => runFullRebuild(first!, { version: 1, triggeredBy: 'overlap-full' });
      const incremental = () => runIncremental(second!, { version: 1, triggeredBy: 'overlap-incremental' });
      const [a, b] = await Promise.all(fullFirst ? [full(), late(incremental)] : [incremental(), late(full)]);
      outcomes.push(`${a.mode}:${a.status} ${b.mode}:${b.status}`);
      // The bot goes on trading before the next overlap.
      await insertTrades(
        db.pool,
        [
          ...generateTrades({
            trades: 50,
            symbols: 4,
            seed: offsetMs + 40,
            start: `2026-07-0${outcomes.length}T00:00:00Z`,
          }),
        ].map((t) => ({ ...t, order_id: `o${outcomes.length}-${t.order_id}` })),
      );

      // Assess: whatever the interleaving, the run that did not skip left a consistent version.
      expect([a.status, b.status]).not.toContain('failed');
      expect([a.status, b.status]).toContain('completed');
    }
    await runIncremental(db, { version: 1 });
    await expectCorrect();
    expect(outcomes).toHaveLength(5);
    console.info(`full beside incremental: ${outcomes.join('; ')}`);
  });

  it('health never calls a live run abandoned, however its reads fall against runs that end', async () => {
    // Why: health reads the log in a snapshot and the lock live; a run that ended between the two
    // looked 'running' with no lock, and a healthy version got a WARNING (exit 2) and an alarm.
    // Prepare
    await insertTrades(db.pool, [...generateTrades({ trades: 500, symbols: 2, seed: 61 })]);
    await runFullRebuild(db, { version: 1 });
    const [runner, reader] = await openPools(2);
    const RUNS = 60;
    let runsDone = false;

    // Act: short runs back to back, each one opening and closing a 'running' row, while health
    // reads as fast as it can.
    const runs = (async () => {
      try {
        for (let i = 0; i < RUNS; i += 1) {
          const run = await runIncremental(runner!, { version: 1, triggeredBy: `health-race-${i}` });
          expect(run.status).toBe('completed');
        }
      } finally {
        runsDone = true;
      }
    })();
    const reads: { abandonedRuns: number; runInProgress: boolean }[] = [];
    while (!runsDone) reads.push(await readHealth(reader!.pool, 1));
    await runs;

    // Assess
    expect(reads.filter((h) => h.runInProgress).length).toBeGreaterThan(0);
    expect(reads.filter((h) => h.abandonedRuns > 0)).toEqual([]);
    expect(await readHealth(db.pool, 1)).toMatchObject({ abandonedRuns: 0, runInProgress: false });
  });

  describe('the incremental Lambda handler', () => {
    let stdout: ReturnType<typeof captureStdout>;
    let secrets: ReturnType<typeof useHandlerEnvironment>;
    beforeEach(async () => {
      await resetContainer();
      secrets = useHandlerEnvironment(db);
      stdout = captureStdout();
    });
    afterEach(async () => {
      stdout.restore();
      secrets.restore();
      await resetContainer();
      vi.unstubAllEnvs();
    });

    it('given the same scheduled event twice, allocates once; the second delivery changes nothing', async () => {
      // Why: EventBridge Scheduler delivers at least once; a redelivered tick must be harmless.
      // Prepare
      await historyWithPendingChanges(41);

      // Act
      const firstDelivery = await handler(SCHEDULED, fakeContext('incremental', 'req-delivery-1'));
      const afterFirst = await snapshotVersion(db.pool, 1);
      const secondDelivery = await handler(SCHEDULED, fakeContext('incremental', 'req-delivery-2'));
      const afterSecond = await snapshotVersion(db.pool, 1);

      // Assess
      expect(firstDelivery).toMatchObject({ status: 'completed' });
      expect(firstDelivery.changesConsumed).toBeGreaterThan(0);
      expect(secondDelivery).toMatchObject({
        status: 'completed',
        changesConsumed: 0,
        tradesProcessed: 0,
        allocationsCreated: 0,
        allocationsRemoved: 0,
      });
      expect(afterSecond).toEqual(afterFirst);
      const { rows } = await db.pool.query<{ triggered_by: string; status: string }>(
        `SELECT triggered_by, status FROM fifo_computation_log WHERE computation_mode = 'incremental' ORDER BY id`,
      );
      expect(rows).toEqual([
        { triggered_by: `schedule ${SCHEDULED.scheduledTime}`, status: 'completed' },
        { triggered_by: `schedule ${SCHEDULED.scheduledTime}`, status: 'completed' },
      ]);
      await expectCorrect();
    });

    it('given the same scheduled event twice at once, one delivery does the work and the other skips or finds none', async () => {
      // Why: two containers can receive one tick together; the lock, not luck, must keep them apart.
      // Prepare
      await historyWithPendingChanges(51);
      const pending = (await readHealth(db.pool, 1)).pendingChanges;

      // Act
      const deliveries = await Promise.all([
        handler(SCHEDULED, fakeContext('incremental', 'req-twin-1')),
        handler(SCHEDULED, fakeContext('incremental', 'req-twin-2')),
      ]);

      // Assess
      expect(deliveries.map((d) => d.status)).toContain('completed');
      expect(deliveries.reduce((sum, d) => sum + d.changesConsumed, 0)).toBe(pending);
      expect(deliveries.filter((d) => d.changesConsumed > 0)).toHaveLength(1);
      await expectCorrect();
    });
  });
});
