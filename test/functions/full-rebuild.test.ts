import { describe, expect, it } from 'vitest';
import { METRICS, METRICS_NAMESPACE, metricDimensions } from '../../functions/commons/constants.ts';
import { handler } from '../../functions/full-rebuild/index.ts';
import { insertBotTrades } from '../support/fixtures.ts';
import { alarmOn, DEPLOYMENT, fakeContext, handlerSuite, single } from './support.ts';

const NIGHTLY = {
  scheduledTime: '2026-03-02T02:30:00Z',
  scheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/default/FifoLedger-FullRebuildSchedule',
  attempt: '1',
};

const TRADES = [
  {
    order_id: 'b1',
    symbol: 'ETH-USD',
    side: 'buy',
    order_time: '2026-03-01T00:00:00Z',
    price: '2000',
    size: '2',
    fee: '2',
  },
  {
    order_id: 's1',
    symbol: 'ETH-USD',
    side: 'sell',
    order_time: '2026-03-01T01:00:00Z',
    price: '2100',
    size: '1',
    fee: '1',
  },
];

describe('full-rebuild handler', { tags: ['server'] }, () => {
  const suite = handlerSuite();

  it('emits FullRebuildSucceeded as the missed-rebuild alarm reads it', async () => {
    // Why: the 26-hour alarm sums this metric; a name, unit or dimension mismatch would page every night.
    // Prepare
    await insertBotTrades(suite.db.pool, TRADES);
    const alarm = alarmOn(METRICS.fullRebuildSucceeded.name);

    // Act
    const result = await handler(NIGHTLY, fakeContext('full-rebuild'));

    // Assess
    expect(result).toMatchObject({ status: 'completed', dryRun: false, trades: 2, allocations: 1 });
    const succeeded = single(suite.stdout.metrics(), METRICS.fullRebuildSucceeded.name);
    expect(succeeded.values).toEqual([1]);
    expect(succeeded.namespace).toBe(METRICS_NAMESPACE);
    expect(succeeded.dimensions).toEqual(metricDimensions(DEPLOYMENT));
    expect({ namespace: alarm.namespace, unit: alarm.unit, dimensions: alarm.dimensions }).toEqual({
      namespace: succeeded.namespace,
      unit: succeeded.unit,
      dimensions: succeeded.dimensions,
    });
    expect(alarm.treatMissingData).toBe('breaching');
    expect(single(suite.stdout.metrics(), METRICS.driftRows.name).values).toEqual([0]);
  });

  it('reports drift in the metric the drift alarm reads', async () => {
    // Why: drift is the nightly proof failing; it must reach the alarm, with the USD amount beside it.
    // Prepare
    await insertBotTrades(suite.db.pool, TRADES);
    await handler(NIGHTLY, fakeContext('full-rebuild', 'req-first'));
    await suite.db.pool.query('ALTER TABLE trade_records DISABLE TRIGGER fifo_capture_update');
    await suite.db.pool.query(`UPDATE trade_records SET price = 2200 WHERE order_id = 's1'`);
    await suite.db.pool.query('ALTER TABLE trade_records ENABLE TRIGGER fifo_capture_update');
    const alarm = alarmOn(METRICS.driftRows.name);

    // Act
    const result = await handler(
      { ...NIGHTLY, scheduledTime: '2026-03-03T02:30:00Z' },
      fakeContext('full-rebuild', 'req-second'),
    );

    // Assess
    expect(result.drift.rows).toBeGreaterThan(0);
    const drift = suite.stdout.metrics().filter((m) => m.name === METRICS.driftRows.name);
    expect(drift.at(-1)?.values).toEqual([result.drift.rows]);
    expect(drift.at(-1)?.unit).toBe(alarm.unit);
    expect(drift.at(-1)?.dimensions).toEqual(alarm.dimensions);
    const usd = suite.stdout.metrics().filter((m) => m.name === METRICS.driftUsd.name);
    expect(usd.at(-1)?.values).toEqual([Number(result.drift.usd)]);
    expect(Number(result.drift.usd)).toBeGreaterThan(0);
  });

  it('does not count a dry run as a successful rebuild', async () => {
    // Why: a manual dry run applies nothing, so it must not reset the missed-rebuild alarm.
    // Prepare
    await insertBotTrades(suite.db.pool, TRADES);

    // Act
    const result = await handler({ dryRun: true }, fakeContext('full-rebuild', 'req-dry'));

    // Assess
    expect(result).toMatchObject({ status: 'completed', dryRun: true });
    expect(single(suite.stdout.metrics(), METRICS.fullRebuildSucceeded.name).values).toEqual([0]);
    const { rows } = await suite.db.pool.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM fifo_allocations',
    );
    expect(rows[0]?.n).toBe('0');
    const started = suite.stdout.logs().find((l) => l.message === 'full-rebuild started');
    expect(started).toMatchObject({ function_request_id: 'req-dry' });
    expect(started?.scheduledTime ?? null).toBeNull();
  });
});
