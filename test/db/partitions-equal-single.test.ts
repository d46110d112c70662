/**
 * A partitioned rebuild gives exactly what the single-process rebuild gives (README,
 * "Partitioned rebuild"): in worker threads, through plan / partition / finish, and
 * interleaved at random with late, corrected and deleted trades and incremental runs.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHistory } from '../../bench/load.ts';
import {
  finishPartitionedRebuild,
  planPartitionedRebuild,
  runFullRebuild,
  runIncremental,
  runRebuildPartition,
} from '../../shared/jobs/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { insertBotTrades, resetTables, snapshotVersion } from '../support/fixtures.ts';

const RUNS = Number(process.env.FIFO_PROPERTY_RUNS ?? 100) >= 100 ? 40 : 10;

/** Plan, every partition in turn (here, in this process), finish: the path Step Functions drives. */
async function planned(db: TestDatabase, version: number, partitions: number) {
  const plan = await planPartitionedRebuild(db, { version, partitions });
  for (const p of plan.partitions) await runRebuildPartition(db, { runId: plan.runId, partition: p.index });
  return finishPartitionedRebuild(db, { runId: plan.runId });
}

describe('a partitioned rebuild equals the single-process one', { tags: 'server' }, () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ max: 6 });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("on the benchmark's history, in worker threads and through plan, partitions and finish", async () => {
    // Why: the benchmark's figures for K = 2 mean something only if K = 2 writes the same rows.
    // Prepare: the history `npm run bench` loads, over more symbols than partitions.
    await resetTables(db.pool);
    await loadHistory(db.pool, { trades: 20_000, symbols: 12, seed: 1 });

    // Act
    const single = await runFullRebuild(db, { version: 1, partitions: 1 });
    const threads = await runFullRebuild(db, { version: 2, partitions: 2 });
    const steps = await planned(db, 3, 5);
    const validation = await runFullRebuild(db, { version: 1, partitions: 3, dryRun: true });

    // Assess
    const reference = await snapshotVersion(db.pool, 1);
    expect(reference.allocations.length).toBeGreaterThan(10_000);
    expect(await snapshotVersion(db.pool, 2)).toEqual(reference);
    expect(await snapshotVersion(db.pool, 3)).toEqual(reference);
    for (const r of [threads, steps]) {
      expect(r.status).toBe('completed');
      expect([r.trades, r.allocations, r.symbols, r.realizedPnlUsd]).toEqual([
        single.trades,
        single.allocations,
        single.symbols,
        single.realizedPnlUsd,
      ]);
      expect(r.drift.rows).toBe(0);
    }
    expect(validation.drift).toEqual(single.drift);
    const { rows } = await db.pool.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM fifo_computation_log
       WHERE computation_mode = 'full' AND status = 'completed' AND allocation_version IN (2, 3)`,
    );
    expect(rows[0]!.n).toBe('2');
  }, 180_000);

  it(`holds for ${RUNS} random histories with partitioned nightly rebuilds interleaved`, async () => {
    // Why: a partition consumes its symbols' pending changes and judges drift on its own; only
    // the sum over partitions must equal what one pass over every symbol finds.
    const symbols = ['AAA-USD', 'BBB-USD', 'CCC-USD', 'DDD-USD', 'EEE-USD'];
    const time = fc
      .integer({ min: 0, max: 30 })
      .map((m) => new Date(Date.UTC(2026, 0, 1, 0, m)).toISOString());
    const amount = fc.integer({ min: 1, max: 4000 }).map((n) => (n / 100).toString());
    const op = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          kind: fc.constant('insert' as const),
          symbol: fc.constantFrom(...symbols),
          side: fc.constantFrom('buy', 'buy', 'sell'),
          order_time: time,
          price: amount,
          size: amount,
        }),
      },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('move' as const), pick: fc.nat(), to: time }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
      // A trade recorded under the wrong symbol and corrected: its sell moves between partitions.
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('resymbol' as const),
          pick: fc.nat(),
          to: fc.constantFrom(...symbols),
        }),
      },
      { weight: 2, arbitrary: fc.constant({ kind: 'run' as const }) },
      {
        weight: 2,
        arbitrary: fc.record({ kind: fc.constant('full' as const), k: fc.integer({ min: 1, max: 4 }) }),
      },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 20 }), async (ops) => {
        // Prepare
        await resetTables(db.pool);
        await db.pool.query('TRUNCATE fifo_rebuild_runs, fifo_rebuild_partitions, fifo_symbol_locks');
        const live: string[] = [];
        const drift: number[] = [];
        let next = 0;

        // Act
        for (const o of ops) {
          if (o.kind === 'insert') {
            const id = `t${next++}`;
            await insertBotTrades(db.pool, [{ order_id: id, ...o }]);
            live.push(id);
          } else if (o.kind === 'move' && live.length > 0) {
            await db.pool.query('UPDATE trade_records SET order_time = $1 WHERE order_id = $2', [
              o.to,
              live[o.pick % live.length],
            ]);
          } else if (o.kind === 'resymbol' && live.length > 0) {
            await db.pool.query('UPDATE trade_records SET symbol = $1 WHERE order_id = $2', [
              o.to,
              live[o.pick % live.length],
            ]);
          } else if (o.kind === 'delete' && live.length > 0) {
            const [id] = live.splice(o.pick % live.length, 1);
            await db.pool.query('DELETE FROM trade_records WHERE order_id = $1', [id]);
          } else if (o.kind === 'run') {
            await runIncremental(db, { version: 1 });
          } else if (o.kind === 'full') {
            drift.push((await planned(db, 1, o.k)).drift.rows);
            // Right after it, the version is complete: nothing left pending, nothing to find.
            const check = await runFullRebuild(db, { version: 1, partitions: 1, dryRun: true });
            drift.push(check.drift.rows, check.pendingApplied.changes);
          }
        }
        await runIncremental(db, { version: 1 });
        await runFullRebuild(db, { version: 2, partitions: 1 });
        const partitioned = await planned(db, 3, 3);

        // Assess
        const reference = await snapshotVersion(db.pool, 2);
        expect(await snapshotVersion(db.pool, 1)).toEqual(reference);
        expect(await snapshotVersion(db.pool, 3)).toEqual(reference);
        expect(partitioned.drift.rows).toBe(0);
        expect(drift.filter((rows) => rows !== 0)).toEqual([]);
      }),
      {
        numRuns: RUNS,
        // Histories the property once found, kept: changes of a symbol with no trades and no rows
        // left unconsumed, and an unmatched sell moved between symbols in two partitions.
        examples: [
          [
            [
              { kind: 'full', k: 1 },
              {
                kind: 'insert',
                symbol: 'AAA-USD',
                side: 'buy',
                order_time: '2026-01-01T00:00:00.000Z',
                price: '0.01',
                size: '0.01',
              },
              { kind: 'resymbol', pick: 0, to: 'DDD-USD' },
              { kind: 'full', k: 1 },
              { kind: 'resymbol', pick: 0, to: 'AAA-USD' },
            ],
          ],
          [
            [
              {
                kind: 'insert',
                symbol: 'AAA-USD',
                side: 'sell',
                order_time: '2026-01-01T00:00:00.000Z',
                price: '0.01',
                size: '0.01',
              },
              { kind: 'full', k: 1 },
              { kind: 'resymbol', pick: 0, to: 'CCC-USD' },
              { kind: 'full', k: 2 },
            ],
          ],
        ],
      },
    );
  }, 600_000);
});
