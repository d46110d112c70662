/**
 * The partitioned nightly rebuild through the full-rebuild handler (README, "Partitioned nightly
 * rebuild on AWS"): the sequence the state machine drives, plan → each partition → finish,
 * called as Step Functions calls it, on a real PostgreSQL. A partition's first attempt fails on
 * a real fault (its database session is terminated while it waits for a symbol another writer
 * holds), and its retry, as the state machine's Retry sends it, completes the run.
 */
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ENV, METRICS, metricDimensions } from '../../functions/commons/constants.ts';
import { handler } from '../../functions/full-rebuild/index.ts';
import { type BotTrade, insertBotTrades, snapshotVersion } from '../support/fixtures.ts';
import { DEPLOYMENT, fakeContext, handlerEnvironment, handlerSuite, single } from './support.ts';

/** An invocation's context with the function's 15 minutes ahead, as under the state machine. */
const invocation = (requestId: string) => ({
  ...fakeContext('full-rebuild', requestId),
  getRemainingTimeInMillis: () => 900_000,
});

/** What a scheduled execution's input carries into the plan (the state machine adds the action). */
const SCHEDULED = {
  scheduledTime: '2026-03-02T02:30:00Z',
  scheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/default/FifoLedger-FullRebuildSchedule',
  attempt: '1',
};

/**
 * Six symbols of different sizes, with partial fills, a sell spanning lots, fees, and one
 * trade the engine rejects, so that the partitions differ and the sums have something to add.
 */
function history(): BotTrade[] {
  const trades: BotTrade[] = [];
  const symbols = ['BTC-USD', 'ETH-USD', 'SOL-USD', 'ADA-USD', 'DOGE-USD', 'XRP-USD'];
  symbols.forEach((symbol, s) => {
    const rounds = 2 + s;
    for (let i = 0; i < rounds; i++) {
      const day = String(1 + i).padStart(2, '0');
      trades.push(
        {
          order_id: `${symbol}-b${i}`,
          symbol,
          side: 'buy',
          order_time: `2026-02-${day}T00:00:00Z`,
          price: String(100 + 10 * s + i),
          size: String(1 + (i % 3)),
          fee: '0.5',
        },
        {
          order_id: `${symbol}-s${i}`,
          symbol,
          side: 'sell',
          order_time: `2026-02-${day}T12:00:00Z`,
          price: String(105 + 10 * s + 2 * i),
          size: String(0.5 + (i % 2)),
          fee: '0.25',
        },
      );
    }
  });
  trades.push({
    order_id: 'ETH-USD-bad',
    symbol: 'ETH-USD',
    side: 'buy',
    order_time: '2026-02-20T00:00:00Z',
    price: '-110',
    size: '1',
  });
  return trades;
}

/** Polls until `check` returns a value, or fails after `ms`. */
async function waitFor<T>(check: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the partitioned rebuild through the handler', { tags: ['server'] }, () => {
  const suite = handlerSuite();
  let writer: pg.Client | null = null;

  afterEach(async () => {
    await writer?.end().catch(() => {});
    writer = null;
  });

  /** The partition that holds `symbol`, from the plan's record. */
  async function partitionOf(runId: string, symbol: string): Promise<number> {
    const { rows } = await suite.db.pool.query<{ partition: number }>(
      'SELECT partition FROM fifo_rebuild_partitions WHERE run_id = $1::uuid AND $2 = ANY(symbols)',
      [runId, symbol],
    );
    return rows[0]!.partition;
  }

  /**
   * Fails `attempt` on a real fault: another writer (as an incremental run's batch does) holds
   * `symbol`'s row lock, and once the attempt's session waits for it, that session is
   * terminated, as a database failover or a lost connection would. Returns the attempt's error.
   */
  async function failWhileWaitingOn<T>(symbol: string, attempt: () => Promise<T>): Promise<unknown> {
    writer = new pg.Client({ connectionString: suite.db.url });
    await writer.connect();
    await writer.query('BEGIN');
    await writer.query(
      'SELECT symbol FROM fifo_symbol_locks WHERE allocation_version = 1 AND symbol = $1 FOR UPDATE',
      [symbol],
    );
    const { rows } = await writer.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const writerPid = rows[0]!.pid;
    const running = attempt().then(
      () => new Error('the attempt was expected to fail'),
      (error: unknown) => error,
    );
    const waiting = await waitFor(async () => {
      const { rows: blocked } = await suite.db.pool.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
        [writerPid],
      );
      return blocked[0]?.pid;
    });
    await suite.db.pool.query('SELECT pg_terminate_backend($1)', [waiting]);
    const error = await running;
    await writer.query('ROLLBACK');
    await writer.end();
    writer = null;
    return error;
  }

  it('completes with one partition failing once and succeeding on retry, equal to a single-process rebuild', async () => {
    // Why: a partition's fault must cost a retry, not the night, and K partitions must store exactly what one process does.
    // Prepare
    await insertBotTrades(suite.db.pool, history());

    // Act: plan, then each partition in turn (the Map), partition 1's first attempt failing
    const planned = await handler({ action: 'plan', partitions: 3, ...SCHEDULED }, invocation('req-plan'));
    const failing = await partitionOf(planned.runId, 'ETH-USD');
    const results = [];
    let firstAttempt: unknown;
    for (const item of planned.partitions) {
      if (item.partition === failing) {
        firstAttempt = await failWhileWaitingOn('ETH-USD', () =>
          handler({ action: 'partition', ...item }, invocation(`req-partition-${item.partition}-1`)),
        );
        continue;
      }
      results.push(
        await handler({ action: 'partition', ...item }, invocation(`req-partition-${item.partition}`)),
      );
    }
    const retried = await handler(
      { action: 'partition', runId: planned.runId, partition: failing },
      invocation(`req-partition-${failing}-2`),
    );
    const finished = await handler(
      { action: 'finish', runId: planned.runId, triggeredBy: planned.triggeredBy },
      invocation('req-finish'),
    );
    const metrics = suite.stdout.metrics();
    const partitioned = await snapshotVersion(suite.db.pool, 1);
    const oneProcess = await handler({}, invocation('req-single'));
    const afterOneProcess = await snapshotVersion(suite.db.pool, 1);

    // Assess
    expect(planned).toMatchObject({
      version: 1,
      dryRun: false,
      triggeredBy: `schedule ${SCHEDULED.scheduledTime}`,
    });
    expect(planned.partitions).toEqual([0, 1, 2].map((partition) => ({ runId: planned.runId, partition })));
    expect(firstAttempt).toBeInstanceOf(Error);
    expect(String((firstAttempt as Error).message)).toMatch(/terminat|connection/i);
    expect(results.map((r) => r.status)).toEqual(['completed', 'completed']);
    expect(retried).toMatchObject({ runId: planned.runId, partition: failing, status: 'completed' });
    expect(finished).toMatchObject({
      status: 'completed',
      dryRun: false,
      partitions: { total: 3, completed: 3, unfinished: [] },
    });
    // The single-process rebuild over the partitioned result finds nothing to change.
    expect(oneProcess.status).toBe('completed');
    expect(oneProcess.drift.rows).toBe(0);
    expect(afterOneProcess).toEqual(partitioned);
    expect(partitioned.allocations.length).toBeGreaterThan(0);
    expect({
      trades: finished.trades,
      allocations: finished.allocations,
      symbols: finished.symbols,
      rejectedTrades: finished.rejectedTrades,
      realizedPnlUsd: finished.realizedPnlUsd,
    }).toEqual({
      trades: oneProcess.trades,
      allocations: oneProcess.allocations,
      symbols: oneProcess.symbols,
      rejectedTrades: oneProcess.rejectedTrades,
      realizedPnlUsd: oneProcess.realizedPnlUsd,
    });
    // Finish emits what the nightly alarms read, as the single rebuild does.
    const succeeded = metrics.filter((m) => m.name === METRICS.fullRebuildSucceeded.name);
    expect(succeeded.map((m) => m.values)).toEqual([[1]]);
    expect(succeeded[0]!.dimensions).toEqual(metricDimensions(DEPLOYMENT));
    expect(single(metrics, METRICS.driftRows.name).values).toEqual([finished.drift.rows]);
    expect(single(metrics, METRICS.fullRebuildRuns.name).values).toEqual([1]);
  });

  it('logs the run failed when the state machine catches a partition that keeps failing', async () => {
    // Why: the Catch's finish is what tells the alarms and the run log that the night failed.
    // Prepare
    vi.stubEnv(ENV.fullRebuildPartitions, '2');
    await insertBotTrades(suite.db.pool, history());
    const planned = await handler({ action: 'plan' }, invocation('req-plan'));
    const failing = await partitionOf(planned.runId, 'ETH-USD');
    const other = planned.partitions.find((p) => p.partition !== failing)!;
    await handler({ action: 'partition', ...other }, invocation('req-partition-ok'));
    await failWhileWaitingOn('ETH-USD', () =>
      handler(
        { action: 'partition', runId: planned.runId, partition: failing },
        invocation('req-partition-bad'),
      ),
    );
    const caught = {
      Error: 'Error',
      Cause: JSON.stringify({ errorType: 'Error', errorMessage: 'terminating connection', trace: [] }),
    };

    // Act
    const finished = await handler(
      { action: 'finish', runId: planned.runId, triggeredBy: planned.triggeredBy, error: caught },
      invocation('req-finish'),
    );

    // Assess
    expect(planned.partitions).toHaveLength(2);
    expect(finished).toMatchObject({
      status: 'failed',
      partitions: { total: 2, completed: 1, unfinished: [failing] },
    });
    const succeeded = suite.stdout.metrics().filter((m) => m.name === METRICS.fullRebuildSucceeded.name);
    expect(succeeded.map((m) => m.values)).toEqual([[0]]);
    const { rows } = await suite.db.pool.query<{ status: string; error: string }>(
      `SELECT status, error_message AS error FROM fifo_computation_log
       WHERE computation_mode = 'full' ORDER BY id DESC LIMIT 1`,
    );
    expect(rows[0]?.status).toBe('failed');
    expect(rows[0]?.error).toContain('Error: terminating connection');
  });
});

describe('the partitioned rebuild through the handler, before any query', () => {
  handlerEnvironment();

  it('rejects an event that is not one of the four shapes, naming the field', async () => {
    // Why: a state machine payload with a typo must fail loudly at the step, not run a whole rebuild.
    // Prepare
    const event = { action: 'partition', runId: 'not-a-run', partition: -1 };

    // Act
    const invocationResult = handler(event, invocation('req-bad'));

    // Assess
    await expect(invocationResult).rejects.toThrow(/invalid event: .*runId.*partition/);
  });
});
