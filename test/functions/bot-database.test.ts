/**
 * The four Lambda handlers on the bot's real database (test/fixtures/bot-schema.sql, loaded as it
 * is, with the bot's rows): the deploy-time migration adopts it, the jobs build fifo-ledger's
 * own version beside the bot's version 2, and nothing of the bot's is touched.
 */
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { type AwsStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../functions/commons/constants.ts';
import { handler as fullRebuild } from '../../functions/full-rebuild/index.ts';
import { handler as incremental } from '../../functions/incremental/index.ts';
import { handler as migrate } from '../../functions/migrate/index.ts';
import { handler as report } from '../../functions/report/index.ts';
import { BOT_VIEWS } from '../support/bot-schema.ts';
import { fakeContext, handlerSuite } from './support.ts';

const NIGHTLY = {
  scheduledTime: '2026-03-02T03:00:00Z',
  scheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/default/FifoLedger-FullRebuildSchedule',
  attempt: '1',
};

/** What the bot wrote, as it wrote it: version 2, its log rows and its review queue. */
async function botRows(suite: ReturnType<typeof handlerSuite>) {
  const q = async (sql: string) => (await suite.db.pool.query(sql)).rows;
  return {
    allocations: await q('SELECT * FROM fifo_allocations WHERE allocation_version = 2 ORDER BY id'),
    log: await q(
      `SELECT id, symbol, allocation_version, allocation_batch_id, computation_start, computation_end, status,
              symbols_processed, computation_mode, triggered_by FROM fifo_computation_log
       WHERE NOT fifo_ledger_run ORDER BY id`,
    ),
    queue: await q('SELECT * FROM manual_review_queue ORDER BY id'),
  };
}

describe("the handlers on the bot's database", { tags: ['server'] }, () => {
  const suite = handlerSuite({ database: 'bot' });
  // biome-ignore lint/suspicious/noExplicitAny: the mock's generic parameters are irrelevant here
  let ses: AwsStub<any, any, any>;
  beforeEach(() => {
    vi.stubEnv(ENV.allocationVersion, '3');
    ses = mockClient(SESv2Client);
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-message-1' });
    vi.stubEnv(ENV.reportSender, 'FIFO Reports <reports@example.com>');
    vi.stubEnv(ENV.reportRecipients, 'ops@example.com');
    vi.stubEnv(ENV.reportTimeZone, 'UTC');
  });
  afterEach(() => {
    ses.restore();
  });

  it('migrate, full rebuild, incremental and report all succeed, and leave the bot rows as they were', async () => {
    // Why: on the one database this product exists for, the first full rebuild once failed on
    // the bot's NOT NULL computation_start; every handler must run there with no manual step.
    // Prepare
    await migrate(undefined, fakeContext('migrate'));
    const before = await botRows(suite);
    await suite.db.pool.query(
      `INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, total_fees_usd, "trigger", status,
                                  source, remaining_size)
       VALUES ('dec-buy', 'TOSHI-USD', 'buy', '2025-12-01T00:00:00Z', 0.0005, 1000, 0.01, '{"trigger":"roc_momo"}',
               'filled', 'webhook', 1000)`,
    );

    // Act
    const full = await fullRebuild(NIGHTLY, fakeContext('full-rebuild'));
    await suite.db.pool.query(
      `INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, "trigger", status, source)
       VALUES ('dec-sell', 'TOSHI-USD', 'sell', '2025-12-02T00:00:00Z', 0.0006, 500, '{}', 'filled', 'websocket')`,
    );
    const incr = await incremental({}, fakeContext('incremental'));
    const mailed = await report({ send: true }, fakeContext('report'));

    // Assess
    expect(full.status).toBe('completed');
    expect(full.version).toBe(3);
    expect(incr.status).toBe('completed');
    expect(incr.tradesProcessed).toBe(1);
    expect(mailed).toBeDefined();
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(1);
    expect(await botRows(suite)).toEqual(before);
    const { rows: ours } = await suite.db.pool.query(
      `SELECT computation_mode, status, symbols_processed, allocation_batch_id IS NOT NULL AS batch,
              computation_start IS NOT NULL AS started
       FROM fifo_computation_log WHERE fifo_ledger_run ORDER BY id`,
    );
    expect(ours).toEqual([
      {
        computation_mode: 'full',
        status: 'completed',
        symbols_processed: ['TOSHI-USD'],
        batch: true,
        started: true,
      },
      {
        computation_mode: 'incremental',
        status: 'completed',
        symbols_processed: ['TOSHI-USD'],
        batch: true,
        started: true,
      },
    ]);
    for (const view of BOT_VIEWS)
      await expect(suite.db.pool.query(`SELECT * FROM ${view}`)).resolves.toBeDefined();
  });

  it("fails the nightly run on the bot's version 2 and changes nothing", async () => {
    // Why: a stack deployed with allocationVersion=2 would silently overwrite the bot's rows.
    // Prepare
    await migrate(undefined, fakeContext('migrate'));
    vi.stubEnv(ENV.allocationVersion, '2');
    const before = await botRows(suite);

    // Act
    const run = fullRebuild(NIGHTLY, fakeContext('full-rebuild', 'req-v2'));

    // Assess
    await expect(run).rejects.toThrow(/version 2 holds 2 allocation rows that fifo-ledger did not write/);
    expect(await botRows(suite)).toEqual(before);
  });
});
