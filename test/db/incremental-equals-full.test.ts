/**
 * The central property (docs/design.md §2 rule 7): any sequence of incremental runs, with late,
 * corrected or deleted trades, ends in exactly what one full rebuild produces.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocationRow, computeFifo, lotRow, parseTrades } from '../../shared/fifo/index.ts';
import { runFullRebuild, runIncremental } from '../../shared/jobs/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type BotTrade, insertBotTrades, resetTables, snapshotVersion } from '../support/fixtures.ts';

const RUNS = Number(process.env.FIFO_PROPERTY_RUNS ?? 100);

type Op =
  | { kind: 'insert'; trade: Omit<BotTrade, 'order_id'> }
  | { kind: 'update'; pick: number; field: 'price' | 'size' | 'order_time' | 'symbol' | 'fee'; value: string }
  | { kind: 'delete'; pick: number }
  | { kind: 'run' }
  | { kind: 'full' };

const SYMBOLS = ['AAA-USD', 'BBB-USD'];
// Few distinct times, so equal timestamps (and buy/sell tie-breaks) are common.
const time = fc.integer({ min: 0, max: 40 }).map((m) => new Date(Date.UTC(2026, 0, 1, 0, m)).toISOString());
const decimal = (maxUnits: number) =>
  fc
    .tuple(fc.integer({ min: 1, max: maxUnits }), fc.integer({ min: 0, max: 99_999_999 }), fc.boolean())
    .map(([units, fraction, round]) =>
      round ? String(units) : `${units - 1}.${String(fraction).padStart(8, '0')}`,
    )
    .filter((v) => !/^0\.0+$/.test(v));
const trade = fc.record({
  symbol: fc.constantFrom(...SYMBOLS),
  side: fc.constantFrom('buy', 'buy', 'sell'),
  order_time: time,
  price: decimal(500),
  size: decimal(20),
  fee: fc.option(decimal(3), { nil: null }),
});
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: trade.map((t) => ({ kind: 'insert' as const, trade: t })) },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.record({
        kind: fc.constant('update' as const),
        pick: fc.nat(),
        field: fc.constant('price' as const),
        value: decimal(500),
      }),
      fc.record({
        kind: fc.constant('update' as const),
        pick: fc.nat(),
        field: fc.constant('size' as const),
        value: decimal(20),
      }),
      fc.record({
        kind: fc.constant('update' as const),
        pick: fc.nat(),
        field: fc.constant('fee' as const),
        value: decimal(3),
      }),
      fc.record({
        kind: fc.constant('update' as const),
        pick: fc.nat(),
        field: fc.constant('order_time' as const),
        value: time,
      }),
      fc.record({
        kind: fc.constant('update' as const),
        pick: fc.nat(),
        field: fc.constant('symbol' as const),
        value: fc.constantFrom(...SYMBOLS),
      }),
    ),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'run' as const }) },
  // The nightly rebuild at any moment, pending changes or not: it must never report drift.
  { weight: 1, arbitrary: fc.constant({ kind: 'full' as const }) },
);

describe('incremental runs equal a full rebuild', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it(`holds for ${RUNS} random histories of inserts, updates, deletes, runs and rebuilds`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        // Prepare
        await resetTables(db.pool);
        const live: string[] = [];
        const rebuildDrift: { rows: number; usd: string }[] = [];
        let next = 0;

        // Act: apply the history, running incrementally whenever it says so.
        for (const o of ops) {
          if (o.kind === 'insert') {
            const id = `t${String(next++).padStart(3, '0')}`;
            await insertBotTrades(db.pool, [{ order_id: id, ...o.trade }]);
            live.push(id);
          } else if (o.kind === 'update' && live.length > 0) {
            const id = live[o.pick % live.length]!;
            const column = o.field === 'fee' ? 'total_fees_usd' : o.field;
            const cast =
              o.field === 'order_time'
                ? 'timestamptz'
                : o.field === 'symbol'
                  ? 'varchar'
                  : 'double precision';
            // The column name comes from a fixed list above, never from data.
            await db.pool.query(`UPDATE trade_records SET ${column} = $1::${cast} WHERE order_id = $2`, [
              o.value,
              id,
            ]);
          } else if (o.kind === 'delete' && live.length > 0) {
            const [id] = live.splice(o.pick % live.length, 1);
            await db.pool.query('DELETE FROM trade_records WHERE order_id = $1', [id]);
          } else if (o.kind === 'run') {
            await runIncremental(db, { version: 1 });
          } else if (o.kind === 'full') {
            const { drift } = await runFullRebuild(db, { version: 1 });
            rebuildDrift.push({ rows: drift.rows, usd: drift.usd });
          }
        }
        await runIncremental(db, { version: 1 });
        await runFullRebuild(db, { version: 2 });
        const dryRun = await runFullRebuild(db, { version: 1, dryRun: true });

        // Assess: row for row, the incremental version equals a fresh rebuild...
        const incremental = await snapshotVersion(db.pool, 1);
        const rebuilt = await snapshotVersion(db.pool, 2);
        expect(incremental).toEqual(rebuilt);
        expect(dryRun.drift.rows).toBe(0);
        expect(dryRun.drift.usd).toBe('0');
        // ...and no interleaved rebuild mistook the changes not yet consumed for drift.
        expect(rebuildDrift.filter((d) => d.rows !== 0 || d.usd !== '0')).toEqual([]);
        // ...and both equal the pure engine over the trades as they stand.
        const { rows } = await db.pool.query(
          `SELECT order_id, symbol, side, order_time::text AS order_time, price, size, fee FROM fifo_trade_source`,
        );
        const parsed = parseTrades(rows, (i) => `row ${i}`);
        expect(parsed.errors).toEqual([]);
        const expected = computeFifo(parsed.trades);
        expect(incremental.allocations.length).toBe(expected.allocations.length);
        const bySlice = (a: { sell_order_id: string | null; buy_order_id: string | null }) =>
          `${a.sell_order_id}/${a.buy_order_id ?? ''}`;
        const expectedRows = new Map(expected.allocations.map(allocationRow).map((a) => [bySlice(a), a]));
        for (const stored of incremental.allocations) {
          const want = expectedRows.get(
            bySlice(stored as { sell_order_id: string; buy_order_id: string | null }),
          )!;
          expect({ ...stored, buy_time: null, sell_time: null }).toEqual({
            ...want,
            buy_time: null,
            sell_time: null,
          });
        }
        expect(incremental.lots.map((l) => l.remaining_size)).toEqual(
          [...expected.lots]
            .sort((a, b) => (a.symbol === b.symbol ? 0 : a.symbol < b.symbol ? -1 : 1))
            .map(lotRow)
            .map((l) => l.remaining_size),
        );
      }),
      { numRuns: RUNS },
    );
  }, 600_000);
});
