/**
 * The drift digest is unambiguous: ids may hold the
 * separators the digest used (\x1e, \x1f, \x18), so two different row sets could hash alike
 * and hide drift. Values are now length-prefixed, and the server's digest of stored rows still
 * equals the engine's digest of the same rows, whatever characters the ids hold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStoredAllocations } from '../../shared/db/allocations.ts';
import { allocationDigest, storedAllocationDigests } from '../../shared/db/digests.ts';
import { ALLOCATION_COLUMNS, type AllocationRow } from '../../shared/fifo/index.ts';
import { runFullRebuild } from '../../shared/jobs/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { insertBotTrades } from '../support/fixtures.ts';

const row = (overrides: Partial<AllocationRow>): AllocationRow =>
  ({
    ...Object.fromEntries(ALLOCATION_COLUMNS.map((c) => [c, '1'])),
    notes: null,
    ...overrides,
  }) as AllocationRow;

describe('the allocation digest', () => {
  it('tells apart row sets that joined text would confuse', () => {
    // Why: "a\x1fb" + "c" and "a" + "b\x1fc" were the same line before.
    // Prepare
    const one = [row({ sell_order_id: 'a\x1fb', buy_order_id: 'c' })];
    const other = [row({ sell_order_id: 'a', buy_order_id: 'b\x1fc' })];
    const nullNote = [row({ notes: null })];
    const markNote = [row({ notes: '\x18' })];

    // Act / Assess
    expect(allocationDigest(one).md5).not.toBe(allocationDigest(other).md5);
    expect(allocationDigest(nullNote).md5).not.toBe(allocationDigest(markNote).md5);
    expect(allocationDigest([row({ notes: '-' })]).md5).not.toBe(allocationDigest(nullNote).md5);
  });

  describe('on the server', () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createTestDatabase();
    });
    afterAll(async () => {
      await db?.drop();
    });

    it('equals the engine digest of the same stored rows, for ids with separators and astral characters', async () => {
      // Why: a digest that differs on equal rows would read every symbol's rows every night.
      // Prepare
      await insertBotTrades(db.pool, [
        {
          order_id: 'b\x1f1\x1e',
          symbol: 'BTC-USD',
          side: 'buy',
          order_time: '2026-01-01T00:00:00Z',
          price: '10',
          size: '1',
        },
        {
          order_id: 'b2😀\x18',
          symbol: 'BTC-USD',
          side: 'buy',
          order_time: '2026-01-02T00:00:00Z',
          price: '11',
          size: '1',
        },
        {
          order_id: 's1-é😀',
          symbol: 'BTC-USD',
          side: 'sell',
          order_time: '2026-01-03T00:00:00Z',
          price: '12',
          size: '1.5',
        },
      ]);
      await runFullRebuild(db, { version: 1 });

      // Act
      const client = await db.pool.connect();
      const [stored, rows] = await Promise.all([
        storedAllocationDigests(client, 1),
        readStoredAllocations(client, 1, 'BTC-USD'),
      ]).finally(() => client.release());
      const check = await runFullRebuild(db, { version: 1, dryRun: true });

      // Assess
      expect(rows).toHaveLength(2);
      expect(stored.get('BTC-USD')).toEqual(allocationDigest(rows));
      expect(check.drift.rows).toBe(0);
    });
  });
});
