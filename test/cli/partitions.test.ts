/**
 * `fifo full` across processes as the operator runs it: --plan, --run/--partition, --finish,
 * and --partitions in one process; their JSON against bin/cli/schemas, and every mistake as
 * one line that says what to do (README, "Partitioned rebuild").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  automaticPartitions,
  MAX_PARTITIONS,
  MIN_TRADES_TO_PARTITION,
} from '../../shared/jobs/partitions/count.ts';
import { generateTrades } from '../../shared/sample/generator.ts';
import { insertTrades } from '../../shared/sample/load.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { snapshotVersion } from '../support/fixtures.ts';
import { fifo, loadSchema, nonSnakeKeys, oneLineError, schemaErrors } from './support.ts';

describe('fifo full across processes', { tags: 'server' }, () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await createTestDatabase();
    env = { DATABASE_URL: db.url };
    await db.pool.query('SELECT 1');
    const start = new Date(Date.now() - 30 * 86_400_000).toISOString();
    await insertTrades(db.pool, [...generateTrades({ trades: 3_000, symbols: 6, seed: 7, start })]);
  });
  afterAll(async () => {
    await db?.drop();
  });

  const json = async (args: string[]) => {
    const run = await fifo([...args, '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as Record<string, unknown>;
  };

  it('plans, works each partition in its own process and finishes, as one process would', async () => {
    // Why: this is how an operator (or Step Functions) runs a rebuild too long for one process.
    // Act
    const plan = await json(['full', '--version', '2', '--plan', '3']);
    const runId = plan.partitioned_run as string;
    const parts = await Promise.all(
      [0, 1, 2].map((i) => json(['full', '--run', runId, '--partition', String(i)])),
    );
    const again = await json(['full', '--run', runId, '--partition', '1']);
    const finish = await json(['full', '--finish', runId]);
    const single = await json(['full', '--version', '3', '--partitions', '1']);
    const threads = await json(['full', '--version', '4', '--partitions', '2']);

    // Assess: each output keeps its contract...
    expect(schemaErrors(loadSchema('full-plan'), plan)).toEqual([]);
    for (const p of [...parts, again]) expect(schemaErrors(loadSchema('full-partition'), p)).toEqual([]);
    for (const r of [finish, single, threads]) expect(schemaErrors(loadSchema('full'), r)).toEqual([]);
    expect([plan, finish, ...parts].flatMap((o) => nonSnakeKeys(o))).toEqual([]);
    // ...the partitions cover every trade once, and a completed one is not done again...
    expect(parts.reduce((n, p) => n + (p.trades as number), 0)).toBe(3_000);
    expect(again.status).toBe('already-completed');
    expect(finish.partitions).toEqual({ total: 3, completed: 3, unfinished: [] });
    // ...and the rows are the single-process rebuild's, byte for byte.
    for (const key of ['trades', 'symbols', 'allocations', 'realized_pnl_usd', 'drift_rows']) {
      expect([finish[key], threads[key]]).toEqual([single[key], single[key]]);
    }
    const reference = await snapshotVersion(db.pool, 3);
    expect(await snapshotVersion(db.pool, 2)).toEqual(reference);
    expect(await snapshotVersion(db.pool, 4)).toEqual(reference);
  }, 120_000);

  it('splits a rebuild by itself only for a history big enough to gain from it', async () => {
    // Why: each partition is a worker thread that loads the jobs and opens connections; on a
    // small history that made a default `fifo full` slower than one process (docs/performance.md).
    // Act
    const chosen = await Promise.all([
      automaticPartitions(db, 4, 3_000),
      automaticPartitions(db, 4, 3_001),
      automaticPartitions(db, 1, 1),
      automaticPartitions(db, MAX_PARTITIONS + 1, 1),
      automaticPartitions({ ...db, supportsCopy: false }, 4, 1),
    ]);
    const byDefault = await fifo(['full', '--version', '6'], env);

    // Assess
    expect(chosen).toEqual([4, 1, 1, MAX_PARTITIONS, 1]);
    expect(MIN_TRADES_TO_PARTITION).toBeGreaterThan(3_000);
    expect(byDefault.code, byDefault.stderr).toBe(0);
    expect(byDefault.stderr).not.toContain('partition started');
    expect(await snapshotVersion(db.pool, 6)).toEqual(await snapshotVersion(db.pool, 3));
  });

  it('finishing with a partition not done says which and what to run, and keeps the version hidden', async () => {
    // Why: after a crash the operator must learn exactly what is left, and the report must not
    // show a half-built version meanwhile.
    // Prepare
    const plan = await json(['full', '--version', '5', '--plan', '2']);
    const runId = plan.partitioned_run as string;
    await json(['full', '--run', runId, '--partition', '0']);

    // Act
    const early = await fifo(['full', '--finish', runId], env);
    const health = await fifo(['health', '--version', '5'], env);
    await json(['full', '--run', runId, '--partition', '1']);
    const late = await fifo(['full', '--finish', runId], env);
    const healthAfter = await fifo(['health', '--version', '5', '--json'], env);

    // Assess
    expect(oneLineError(early)).toBe(
      `fifo: run ${runId}: 1 partition of 2 not completed (1); run fifo full --run ${runId} --partition I ` +
        `for each, then fifo full --finish ${runId} again`,
    );
    expect(oneLineError(health)).toContain(`version 5 is being built by partitioned run ${runId} (1 of 2`);
    expect(late.code, late.stderr).toBe(0);
    expect(JSON.parse(healthAfter.stdout).verdict).toBeDefined();
    const { rows } = await db.pool.query(
      `SELECT status, error_message FROM fifo_computation_log WHERE allocation_version = 5 ORDER BY id`,
    );
    expect(rows.map((r) => r.status)).toEqual(['failed', 'completed']);
    expect(rows[0].error_message).toContain('partial: partition(s) 1 of 2 did not complete');
  }, 120_000);

  it.each([
    [['full', '--plan', '0'], '--plan must be a whole number from 1 to 256, got "0"'],
    [['full', '--partitions', 'two'], '--partitions must be a whole number from 1 to 256, got "two"'],
    [['full', '--partition', '1'], '--partition needs --run RUN (the run id --plan printed)'],
    [
      ['full', '--run', 'nope', '--partition', '0'],
      '--run must be a run id as --plan printed it (a UUID), got "nope"',
    ],
    [
      ['full', '--plan', '2', '--finish', '00000000-0000-4000-8000-000000000000'],
      'use one of --plan, --run and --finish at a time',
    ],
    [
      ['full', '--finish', '00000000-0000-4000-8000-000000000000'],
      'no partitioned rebuild 00000000-0000-4000-8000-000000000000: plan one with fifo full --plan K',
    ],
  ])('%j is one clear line', async (args, message) => {
    // Why: a mistyped flag or run id must say what to do, never print a stack.
    // Act
    const run = await fifo(args, env);

    // Assess
    expect(oneLineError(run)).toBe(`fifo: ${message}`);
  });

  it('a partition that does not exist is named with the ones that do', async () => {
    // Why: partitions count from 0; an off-by-one must not look like a broken run.
    // Prepare
    const plan = await json(['full', '--version', '6', '--plan', '2']);

    // Act
    const run = await fifo(['full', '--run', plan.partitioned_run as string, '--partition', '2'], env);

    // Assess
    expect(oneLineError(run)).toBe(`fifo: run ${plan.partitioned_run} has partitions 0 to 1, not 2`);
  });
});
