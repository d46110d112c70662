/** The incremental handler as Lambda runs it: fake context, secret from a mocked Secrets Manager, real PostgreSQL. */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { METRICS, METRICS_NAMESPACE, metricDimensions } from '../../functions/commons/constants.ts';
import { handler } from '../../functions/incremental/index.ts';
import { tryLockVersion, unlockVersion } from '../../shared/db/run-log.ts';
import { insertBotTrades } from '../support/fixtures.ts';
import {
  alarmOn,
  DEPLOYMENT,
  fakeContext,
  handlerEnvironment,
  handlerSuite,
  SECRET_ARN,
  single,
} from './support.ts';

const SCHEDULED = {
  scheduledTime: '2026-03-01T12:05:00Z',
  scheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/default/FifoLedger-IncrementalSchedule',
  attempt: '1',
};

describe('incremental handler', { tags: ['server'] }, () => {
  const suite = handlerSuite();

  it('emits the freshness lag on a quiet market, as the freshness alarm watches it', async () => {
    // Why: the alarm treats a missing lag as "the job stopped", so a run with nothing to do must still emit 0.
    // Prepare
    const alarm = alarmOn(METRICS.freshnessLag.name);

    // Act
    const result = await handler(SCHEDULED, fakeContext('incremental'));

    // Assess
    expect(result.status).toBe('completed');
    const lag = single(suite.stdout.metrics(), METRICS.freshnessLag.name);
    expect(lag.values).toEqual([0]);
    expect(lag.namespace).toBe(METRICS_NAMESPACE);
    expect(lag.unit).toBe(METRICS.freshnessLag.unit);
    expect(lag.dimensions).toEqual(metricDimensions(DEPLOYMENT));
    // The same series the alarm reads: namespace, name, unit and the exact dimension set.
    expect(alarm.namespace).toBe(lag.namespace);
    expect(alarm.unit).toBe(lag.unit);
    expect(alarm.dimensions).toEqual(lag.dimensions);
    expect(alarm.treatMissingData).toBe('breaching');
    expect(single(suite.stdout.metrics(), METRICS.incrementalRuns.name).values).toEqual([1]);
  });

  it('allocates new trades, logging the scheduled time and the request id', async () => {
    // Why: the scheduled time is the at-least-once key an operator traces a run by, on every log line.
    // Prepare
    await handler(SCHEDULED, fakeContext('incremental', 'req-first'));
    await insertBotTrades(suite.db.pool, [
      {
        order_id: 'b1',
        symbol: 'BTC-USD',
        side: 'buy',
        order_time: '2026-03-01T10:00:00Z',
        price: '40000',
        size: '1',
        fee: '4',
      },
      {
        order_id: 's1',
        symbol: 'BTC-USD',
        side: 'sell',
        order_time: '2026-03-01T11:00:00Z',
        price: '42000',
        size: '0.5',
        fee: '2',
      },
    ]);

    // Act
    const result = await handler(
      { ...SCHEDULED, scheduledTime: '2026-03-01T12:10:00Z' },
      fakeContext('incremental', 'req-second'),
    );

    // Assess
    expect(result).toMatchObject({ status: 'completed', tradesProcessed: 2, allocationsCreated: 1 });
    const { rows } = await suite.db.pool.query<{ pnl: string }>(
      `SELECT trim_scale(pnl_usd)::text AS pnl FROM fifo_allocations WHERE sell_order_id = 's1'`,
    );
    expect(rows).toEqual([{ pnl: '996' }]);
    const started = suite.stdout.logs().filter((l) => l.message === 'incremental started');
    expect(started.at(-1)).toMatchObject({
      level: 'INFO',
      service: 'fifo-ledger',
      function_request_id: 'req-second',
      scheduledTime: '2026-03-01T12:10:00Z',
      attempt: '1',
    });
    const { rows: log } = await suite.db.pool.query<{ triggered_by: string }>(
      `SELECT triggered_by FROM fifo_computation_log WHERE computation_mode = 'incremental' ORDER BY id DESC LIMIT 1`,
    );
    expect(log[0]?.triggered_by).toBe('schedule 2026-03-01T12:10:00Z');
    const processed = suite.stdout.metrics().filter((m) => m.name === METRICS.tradesProcessed.name);
    expect(processed.at(-1)?.values).toEqual([2]);
  });

  it('skips when another run holds the version, and still emits the lag', async () => {
    // Why: schedules deliver at least once; a duplicate must exit cleanly without silencing the freshness alarm.
    // Prepare
    await handler(SCHEDULED, fakeContext('incremental'));
    const holder = await suite.db.pool.connect();
    await tryLockVersion(holder, 1);

    try {
      // Act
      const result = await handler(SCHEDULED, fakeContext('incremental', 'req-duplicate'));

      // Assess
      expect(result.status).toBe('skipped');
      const lags = suite.stdout.metrics().filter((m) => m.name === METRICS.freshnessLag.name);
      expect(lags).toHaveLength(2);
    } finally {
      await unlockVersion(holder, 1);
      holder.release();
    }
  });

  it('reads the secret once per container, through the cache', async () => {
    // Why: a GetSecretValue call per 5-minute run costs money and latency; Powertools caches it (maxAge).
    // Prepare
    await handler(SCHEDULED, fakeContext('incremental', 'req-1'));

    // Act
    await handler(SCHEDULED, fakeContext('incremental', 'req-2'));

    // Assess
    expect(suite.secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    expect(suite.secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET_ARN });
  });
});

describe('incremental handler, before any query', () => {
  const suite = handlerEnvironment();

  it('fails an invocation whose event has unknown fields, and logs why', async () => {
    // Why: a typo in a manual invocation ("dryrun") must fail loudly, never run with defaults.
    // Prepare
    const event = { ...SCHEDULED, sinse: '1 hour ago' };

    // Act
    const invocation = handler(event, fakeContext('incremental', 'req-bad'));

    // Assess
    await expect(invocation).rejects.toThrow(/invalid event/);
    const failed = suite.stdout.logs().find((l) => l.message === 'incremental failed');
    expect(failed).toMatchObject({ level: 'ERROR', function_request_id: 'req-bad' });
    expect(suite.secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 0);
  });
});
