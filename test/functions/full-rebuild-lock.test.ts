/**
 * The nightly rebuild never skips silently: it waits a
 * bounded time for an incremental run that holds the version's lock, and if the lock stays
 * held it fails, so the schedule's retry and the error alarm see it.
 */
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ENV, METRICS } from '../../functions/commons/constants.ts';
import { handler } from '../../functions/full-rebuild/index.ts';
import { LOCK_NAMESPACE } from '../../shared/db/sql.ts';
import { LockBusyError, runFullRebuild } from '../../shared/jobs/index.ts';
import { insertBotTrades } from '../support/fixtures.ts';
import { fakeContext, handlerSuite, single } from './support.ts';

/** A nightly invocation's context: the function's 15 minutes ahead of it. */
const nightly = (requestId: string) => ({
  ...fakeContext('full-rebuild', requestId),
  getRemainingTimeInMillis: () => 900_000,
});

const NIGHTLY = {
  scheduledTime: '2026-03-02T02:30:00Z',
  scheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/default/FifoLedger-FullRebuildSchedule',
  attempt: '1',
};

describe('the nightly rebuild and a held lock', { tags: ['server'] }, () => {
  const suite = handlerSuite();
  let holder: pg.Client | null = null;
  /** Another session holding version 1's lock, as an incremental run does while it works. */
  async function holdLock() {
    holder = new pg.Client({ connectionString: suite.db.url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1, 1)', [LOCK_NAMESPACE]);
    return holder;
  }
  afterEach(async () => {
    await holder?.end();
    holder = null;
  });

  it('waits for the lock and completes once the incremental run releases it', async () => {
    // Why: an incremental run every 5 minutes often holds the lock when the nightly run starts.
    // Prepare
    await insertBotTrades(suite.db.pool, [
      {
        order_id: 'b1',
        symbol: 'ETH-USD',
        side: 'buy',
        order_time: '2026-03-01T00:00:00Z',
        price: '2000',
        size: '1',
      },
    ]);
    const held = await holdLock();
    setTimeout(() => held.query('SELECT pg_advisory_unlock($1, 1)', [LOCK_NAMESPACE]).catch(() => {}), 1_500);

    // Act
    const result = await handler(NIGHTLY, nightly('req-wait'));

    // Assess
    expect(result.status).toBe('completed');
    expect(single(suite.stdout.metrics(), METRICS.fullRebuildSucceeded.name).values).toEqual([1]);
  });

  it('fails the invocation when the lock stays held for the whole wait, and logs a failed run', async () => {
    // Why: "skipped" returned success, so no retry ran and the missed-rebuild alarm fired hours later.
    // Prepare
    vi.stubEnv(ENV.fullRebuildLockWaitSeconds, '1');
    await holdLock();

    // Act
    const invocation = handler(NIGHTLY, nightly('req-busy'));

    // Assess
    await expect(invocation).rejects.toThrow(
      /busy: another run of version 1 held the lock for the whole 1 s/,
    );
    expect(single(suite.stdout.metrics(), METRICS.fullRebuildSucceeded.name).values).toEqual([0]);
    const { rows } = await suite.db.pool.query(
      `SELECT status, error_message FROM fifo_computation_log WHERE computation_mode = 'full' ORDER BY id DESC LIMIT 1`,
    );
    expect(rows[0]).toMatchObject({ status: 'failed', error_message: expect.stringMatching(/^busy: /) });
  });

  it('the CLI default still skips at once, and --lock-wait makes it wait', async () => {
    // Why: an operator's `fifo full` beside a running job keeps the documented "skipped" (exit 0).
    // Prepare
    await holdLock();

    // Act
    const skipped = await runFullRebuild(suite.db, { version: 1 });
    const waited = runFullRebuild(suite.db, { version: 1, lockWaitMs: 600 });

    // Assess
    expect(skipped.status).toBe('skipped');
    await expect(waited).rejects.toBeInstanceOf(LockBusyError);
  });
});
