/**
 * The remaining_size mirror beside the bot's own writers: the bot's startup
 * maintenance re-inflates consumed lots in trade_records.remaining_size; health counts the buys
 * whose mirror differs from their lot, the next incremental run puts them back, and no
 * computation ever reads the mirror. The database is the bot's production DDL, migrated; the
 * bot writes through test/support/bot-writers.ts on connections of its own.
 */
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../shared/db/migrate.ts';
import { withConnection } from '../../shared/db/pool.ts';
import { readHealth, runFullRebuild, runIncremental } from '../../shared/jobs/index.ts';
import { createBotSchema } from '../support/bot-schema.ts';
import { cancelOrder, type RecordedTrade, recordTrade, startupMaintenance } from '../support/bot-writers.ts';
import { createEmptyDatabase, type TestDatabase } from '../support/database.ts';
import { snapshotVersion } from '../support/fixtures.ts';

const OURS = 3;
const HOUR = 3_600_000;
const hoursAgo = (h: number) => new Date(Math.floor(Date.now() / HOUR) * HOUR - h * HOUR).toISOString();

const trade = (
  orderId: string,
  side: 'buy' | 'sell',
  hours: number,
  size: string,
  price: string,
  symbol = 'BTC-USD',
): RecordedTrade => ({
  orderId,
  symbol,
  side,
  orderTime: hoursAgo(hours),
  price,
  size,
  fee: '0.25',
  trigger: 'roc_momo',
  source: 'websocket',
});

/**
 * b1 2 @ 100 and b2 3 @ 110 consumed wholly by s1 (5), b3 1 @ 120 open; ETH's e1 is half sold.
 * Mirror after a run: b1 0, b2 0, b3 1, e1 2.
 */
const HISTORY: RecordedTrade[] = [
  trade('b1', 'buy', 10, '2', '100'),
  trade('b2', 'buy', 9, '3', '110'),
  trade('s1', 'sell', 8, '5', '130'),
  trade('b3', 'buy', 7, '1', '120'),
  trade('e1', 'buy', 10, '4', '2000', 'ETH-USD'),
  trade('e2', 'sell', 9, '2', '2100', 'ETH-USD'),
];

async function mirrorOf(db: TestDatabase): Promise<Record<string, string | null>> {
  const { rows } = await db.pool.query<{ order_id: string; remaining: string | null }>(
    `SELECT order_id, remaining_size::text AS remaining FROM trade_records WHERE side = 'buy' ORDER BY order_id`,
  );
  return Object.fromEntries(rows.map((r) => [r.order_id, r.remaining]));
}

/** Each buy's lot in version 3, as float8 text (the mirror's type), by buy. */
async function lotsOf(db: TestDatabase): Promise<Record<string, string>> {
  const { rows } = await db.pool.query<{ id: string; remaining: string }>(
    `SELECT buy_order_id AS id, remaining_size::double precision::text AS remaining FROM fifo_lots
     WHERE allocation_version = $1 ORDER BY buy_order_id`,
    [OURS],
  );
  return Object.fromEntries(rows.map((r) => [r.id, r.remaining]));
}

/** A fresh rebuild of the same trades in another database, with no mirror at all (NULL). */
async function rebuiltWithoutMirror(db: TestDatabase) {
  const ref = await createEmptyDatabase();
  try {
    await createBotSchema(ref.pool, { data: false });
    await withConnection(ref, migrate);
    const { rows } = await db.pool.query<{ rows: string }>(
      `SELECT coalesce(json_agg(t), '[]')::text AS rows FROM trade_records t`,
    );
    await ref.pool.query(
      `INSERT INTO trade_records SELECT * FROM json_populate_recordset(NULL::trade_records, $1::json)`,
      [rows[0]!.rows],
    );
    await ref.pool.query('UPDATE trade_records SET remaining_size = NULL');
    await runFullRebuild(ref, { version: OURS });
    return await snapshotVersion(ref.pool, OURS);
  } finally {
    await ref.drop();
  }
}

// The bot's production DDL, written by the bot's programs in sessions of their own: a real server.
describe('the remaining_size mirror', { tags: 'server' }, () => {
  let db: TestDatabase;
  let bot: pg.Pool;
  beforeEach(async () => {
    db = await createEmptyDatabase();
    await createBotSchema(db.pool, { data: false });
    await withConnection(db, migrate);
    bot = new pg.Pool({ connectionString: db.url, max: 2, application_name: 'trading-bot' });
    for (const t of HISTORY) await recordTrade(bot, t);
    await runIncremental(db, { version: OURS });
  });
  afterEach(async () => {
    await bot?.end();
    await db?.drop();
  });

  it('counts the buys the maintenance re-inflated, and the next incremental run puts exactly those back', async () => {
    // Why: the bot's startup maintenance sets remaining_size = size where it is 0, so consumed
    // lots look open again to anyone who reads the column; health must show it and the next
    // run must undo it, without treating it as a trade change.
    // Prepare
    const allocations = await snapshotVersion(db.pool, OURS);
    expect(await mirrorOf(db)).toEqual({ b1: '0', b2: '0', b3: '1', e1: '2' });
    expect((await readHealth(db.pool, OURS)).mirrorMismatches).toBe(0);

    // Act
    const maintenance = await startupMaintenance(bot);
    const afterMaintenance = await readHealth(db.pool, OURS);
    const run = await runIncremental(db, { version: OURS });

    // Assess
    expect(maintenance.remainingReset).toBe(2);
    expect(await readHealth(db.pool, OURS)).toMatchObject({ mirrorMismatches: 0, pendingChanges: 0 });
    expect({
      mismatches: afterMaintenance.mirrorMismatches,
      pending: afterMaintenance.pendingChanges,
    }).toEqual({
      mismatches: 2,
      pending: 0,
    });
    expect({ restored: run.mirrorsRestored, changes: run.changesConsumed }).toEqual({
      restored: 2,
      changes: 0,
    });
    expect(await mirrorOf(db)).toEqual({ b1: '0', b2: '0', b3: '1', e1: '2' });
    expect(await snapshotVersion(db.pool, OURS)).toEqual(allocations);
  });

  it('reads no mirror: garbage changes no allocation, a dry run finds no drift, a replay equals a rebuild without it', async () => {
    // Why: the mirror is for people and the bot's tools; if any computation read it, the
    // maintenance (or any writer) could change realized PnL.
    // Prepare
    const before = await snapshotVersion(db.pool, OURS);
    const garbage = `UPDATE trade_records SET remaining_size = CASE order_id
       WHEN 'b1' THEN 'NaN'::float8 WHEN 'b2' THEN '-1'::float8 WHEN 'b3' THEN 'Infinity'::float8
       ELSE 1e300 END WHERE side = 'buy'`;

    // Act 1: garbage in every buy's mirror, then the nightly dry run.
    await bot.query(garbage);
    const dry = await runFullRebuild(db, { version: OURS, dryRun: true });

    // Assess 1
    expect(dry.drift).toMatchObject({ rows: 0, usd: '0', lotRows: 0 });
    expect(dry.rejectedTrades).toBe(0);
    expect(await snapshotVersion(db.pool, OURS)).toEqual(before);

    // Act 2: a back-dated buy and a corrected sell make BTC-USD replay from its first lot.
    await recordTrade(bot, trade('b0', 'buy', 11, '1', '90'));
    await recordTrade(bot, { ...HISTORY[2]!, size: '4.5' });
    const run = await runIncremental(db, { version: OURS });

    // Assess 2
    expect(run.rejectedTrades).toBe(0);
    expect(await snapshotVersion(db.pool, OURS)).toEqual(await rebuiltWithoutMirror(db));
    expect((await runFullRebuild(db, { version: OURS, dryRun: true })).drift).toMatchObject({
      rows: 0,
      usd: '0',
    });
    expect((await readHealth(db.pool, OURS)).mirrorMismatches).toBe(0);
    expect(await mirrorOf(db)).toEqual(await lotsOf(db));
  });

  it('the nightly rebuild puts back even mirror writes that change capture never noted', async () => {
    // Why: a writer may bypass the trigger that notes foreign writes (it sets the same session
    // flag fifo-ledger's own writes set); the nightly proof must still leave the mirror true.
    // Prepare
    await bot.query('BEGIN');
    await bot.query(`SELECT set_config('fifo.writing_mirror', 'on', true)`);
    await bot.query(`UPDATE trade_records SET remaining_size = size * 7 WHERE side = 'buy'`);
    await bot.query('COMMIT');
    const unnoticed = await readHealth(db.pool, OURS);
    const incremental = await runIncremental(db, { version: OURS });

    // Act
    const full = await runFullRebuild(db, { version: OURS });

    // Assess
    expect({ mismatches: unnoticed.mirrorMismatches, restored: incremental.mirrorsRestored }).toEqual({
      mismatches: 0,
      restored: 0,
    });
    expect(full.drift).toMatchObject({ rows: 0, usd: '0', lotRows: 0 });
    expect(await mirrorOf(db)).toEqual({ b1: '0', b2: '0', b3: '1', e1: '2' });
  });

  it('follows a lot that a replay gives back: a cancelled sell', async () => {
    // Why: a replay gives the removed sells' slices back to their lots in SQL; a lot that the
    // replayed trades do not consume again must still show its new remaining size.
    // Prepare: s1 consumed b1 and b2 wholly (mirror 0 and 0).
    const s1 = HISTORY[2]!;

    // Act: the bot cancels s1.
    await cancelOrder(bot, s1.orderId);
    await runIncremental(db, { version: OURS });

    // Assess
    expect(await lotsOf(db)).toEqual({ b1: '2', b2: '3', b3: '1', e1: '2' });
    expect(await mirrorOf(db)).toEqual(await lotsOf(db));
  });

  it('follows a lot that a replay gives back: a sell corrected smaller', async () => {
    // Why: as above, through the reconcile pass: s1 corrected from 5 to 2 takes b1 only, so b2
    // gets its 3 back and no replayed trade touches it.
    // Prepare
    const s1 = HISTORY[2]!;

    // Act
    await recordTrade(bot, { ...s1, size: '2', source: 'reconciled' });
    await runIncremental(db, { version: OURS });

    // Assess
    expect(await lotsOf(db)).toEqual({ b1: '0', b2: '3', b3: '1', e1: '2' });
    expect(await mirrorOf(db)).toEqual(await lotsOf(db));
  });
});
