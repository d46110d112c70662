/** The jobs need no more than the least-privilege role grants (migrations/0005_job-role.sql). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHealth, runFullRebuild, runIncremental } from '../../shared/jobs/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { insertBotTrades, snapshotVersion } from '../support/fixtures.ts';
import { connectAsJobRole, type JobRoleDatabase } from '../support/job-role.ts';

describe('as the job role (needs a server: PGlite has no roles to log in as)', { tags: 'server' }, () => {
  let admin: TestDatabase;
  let job: JobRoleDatabase;
  beforeAll(async () => {
    admin = await createTestDatabase();
    job = await connectAsJobRole(admin);
  });
  afterAll(async () => {
    await job?.drop();
    await admin?.drop();
  });

  it('runs full, incremental and health, and the bot user can still record trades', async () => {
    // Why: production runs the functions as this role, never as the owner.
    // Prepare
    await insertBotTrades(admin.pool, [
      {
        order_id: 'b1',
        symbol: 'BTC-USD',
        side: 'buy',
        order_time: '2026-01-01T00:00:00Z',
        price: '100',
        size: '2',
      },
      {
        order_id: 's1',
        symbol: 'BTC-USD',
        side: 'sell',
        order_time: '2026-01-02T00:00:00Z',
        price: '110',
        size: '1',
      },
    ]);

    // Act
    const full = await runFullRebuild(job, { version: 1 });
    await insertBotTrades(admin.pool, [
      {
        order_id: 's2',
        symbol: 'BTC-USD',
        side: 'sell',
        order_time: '2026-01-03T00:00:00Z',
        price: '120',
        size: '1',
      },
    ]);
    const incremental = await runIncremental(job, { version: 1 });
    const health = await readHealth(job.pool, 1);
    await runFullRebuild(admin, { version: 2 });

    // Assess
    expect(full.status).toBe('completed');
    expect(incremental.tradesProcessed).toBe(1);
    expect(health.pendingChanges).toBe(0);
    expect((await snapshotVersion(admin.pool, 1)).allocations).toEqual(
      (await snapshotVersion(admin.pool, 2)).allocations,
    );
    const { rows } = await admin.pool.query(`SELECT remaining_size FROM trade_records WHERE order_id = 'b1'`);
    expect(rows[0].remaining_size).toBe(0);
  });

  it('cannot change trade facts or read unrelated tables', async () => {
    // Why: a bug in the jobs must not be able to rewrite what the bot recorded.
    // Prepare
    await admin.pool.query('CREATE TABLE IF NOT EXISTS bot_secrets (k text)');

    // Act
    const updatePrice = job.pool.query(`UPDATE trade_records SET price = 1`).catch((e: Error) => e);
    const deleteTrades = job.pool.query(`DELETE FROM trade_records`).catch((e: Error) => e);
    const readOther = job.pool.query(`SELECT * FROM bot_secrets`).catch((e: Error) => e);
    // The run log is the record of what the jobs did: they add to it, never erase it.
    const eraseLog = job.pool.query(`DELETE FROM fifo_computation_log`).catch((e: Error) => e);

    // Assess
    for (const attempt of await Promise.all([updatePrice, deleteTrades, readOther, eraseLog])) {
      expect(attempt).toBeInstanceOf(Error);
      expect((attempt as Error).message).toContain('permission denied');
    }
  });
});
