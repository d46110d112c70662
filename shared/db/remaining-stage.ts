/**
 * trade_records.remaining_size, the bot's mirror of each buy's lot: the one path that writes it.
 *
 * New values go to a temporary table as symbols finish (no WAL, no memory held by the job);
 * one UPDATE joins it with trade_records after the allocations are written. Keyed updates
 * batched between the allocation writes competed with them for the buffer cache and for the
 * writer's time; one hash join reads trade_records once. Only values that differ as float8,
 * the column's type, are written.
 *
 * The UPDATE visits the buys in time order. The bot inserts its trades as they happen, so that
 * is close to the order of trade_records' pages, and each page is read and dirtied about once;
 * in symbol order (the order the job stages them) the pages come at random. At 1M trades with
 * 128 MB of shared buffers, symbol order read and wrote about ten times the blocks (660k
 * against 68k, EXPLAIN (ANALYZE, BUFFERS)). Here the OS cache held the table, so the time was
 * about the same; a table larger than the server's memory is where it counts.
 */
import type pg from 'pg';
import type { TableSpec } from '../tables/spec.ts';
import { bulkInsert, bulkTarget } from './bulk.ts';
import { utcText } from './sql.ts';

/** The stage, a temporary table: a buy's order_id, its lot's remaining size and its time, as text. */
const STAGE_SPEC: TableSpec = {
  name: 'fifo_remaining_stage',
  columns: [
    { name: 'order_id', type: 'character varying', kind: 'text', nullable: false, from: 'row' },
    { name: 'remaining', type: 'text', kind: 'text', nullable: false, from: 'row' },
    { name: 'buy_time', type: 'text', kind: 'text', nullable: false, from: 'row' },
  ],
};
const STAGE = bulkTarget(STAGE_SPEC);

/**
 * Marks the transaction's writes to trade_records.remaining_size as fifo-ledger's own, so the
 * mirror trigger (migrations/0008) does not note them as another program's.
 */
async function markMirrorWrites(client: pg.ClientBase): Promise<void> {
  await client.query(`SELECT set_config('fifo.writing_mirror', 'on', true)`);
}

export class RemainingSizeStage {
  private staged = 0;

  private constructor(
    private readonly client: pg.ClientBase,
    private readonly supportsCopy: boolean,
  ) {}

  /** Creates the stage, or finds it; it lives until the caller's transaction ends. */
  static async open(client: pg.ClientBase, supportsCopy: boolean): Promise<RemainingSizeStage> {
    await client.query(
      `CREATE TEMPORARY TABLE IF NOT EXISTS ${STAGE.table}
         (${STAGE_SPEC.columns.map((c) => `${c.name} ${c.type}${c.nullable ? '' : ' NOT NULL'}`).join(', ')}) ON COMMIT DROP`,
    );
    return new RemainingSizeStage(client, supportsCopy);
  }

  async add(updates: readonly { orderId: string; remaining: string; buyTime: string }[]): Promise<void> {
    if (updates.length === 0) return;
    await bulkInsert(
      this.client,
      this.supportsCopy,
      STAGE,
      updates.map((u) => [u.orderId, u.remaining, u.buyTime]),
    );
    this.staged += updates.length;
  }

  /**
   * Stages the lot values of the buys whose mirror another program rewrote (noted in
   * fifo_mirror_writes by migrations/0008), consuming the notes. The cost follows those writes,
   * not the history. The engine never reads the mirror: this keeps it true for the people and
   * tools that do.
   */
  async addNotedWrites(version: number): Promise<void> {
    const { rowCount } = await this.client.query(
      `WITH noted AS (DELETE FROM fifo_mirror_writes RETURNING order_id)
       INSERT INTO ${STAGE.table} (order_id, remaining, buy_time)
       SELECT DISTINCT n.order_id, l.remaining_size::text, ${utcText('l.buy_time')}
       FROM noted n JOIN fifo_lots l ON l.allocation_version = $1 AND l.buy_order_id = n.order_id`,
      [version],
    );
    this.staged += rowCount ?? 0;
  }

  /** Writes the staged values; returns the rows updated. */
  async apply(): Promise<number> {
    if (this.staged === 0) return 0;
    await this.client.query(`ANALYZE ${STAGE.table}`);
    // Room for the hash of the join in memory; the default 4 MB splits it into batches on disk.
    await this.client.query(`SET LOCAL work_mem = '128MB'`);
    await markMirrorWrites(this.client);
    const { rowCount } = await this.client.query(
      `UPDATE trade_records t SET remaining_size = s.remaining::double precision
       FROM (SELECT order_id, remaining FROM ${STAGE.table} ORDER BY buy_time COLLATE "C") s
       WHERE t.order_id = s.order_id AND t.remaining_size IS DISTINCT FROM s.remaining::double precision`,
    );
    await this.client.query('RESET work_mem');
    await this.client.query(`TRUNCATE ${STAGE.table}`);
    this.staged = 0;
    return rowCount ?? 0;
  }
}
