/**
 * trade_records.remaining_size, the bot's mirror of each buy's lot: the one path that writes it.
 *
 * New values go to a temporary table as symbols finish (no WAL, no memory held by the job);
 * one UPDATE joins it with trade_records after the allocations are written. Keyed updates
 * batched between the allocation writes competed with them for the buffer cache and for the
 * writer's time; one hash join reads trade_records once. Only values that differ as float8,
 * the column's type, are written.
 */
import type pg from 'pg';
import { type BulkTarget, bulkInsert } from './bulk.ts';

const STAGE: BulkTarget = {
  table: 'fifo_remaining_stage',
  columns: ['order_id', 'remaining'],
  types: ['varchar', 'text'],
};

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
      `CREATE TEMPORARY TABLE IF NOT EXISTS ${STAGE.table} (order_id varchar NOT NULL, remaining text NOT NULL) ON COMMIT DROP`,
    );
    return new RemainingSizeStage(client, supportsCopy);
  }

  async add(updates: readonly { orderId: string; remaining: string }[]): Promise<void> {
    if (updates.length === 0) return;
    await bulkInsert(
      this.client,
      this.supportsCopy,
      STAGE,
      updates.map((u) => [u.orderId, u.remaining]),
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
       INSERT INTO ${STAGE.table} (order_id, remaining)
       SELECT DISTINCT n.order_id, l.remaining_size::text
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
       FROM ${STAGE.table} s
       WHERE t.order_id = s.order_id AND t.remaining_size IS DISTINCT FROM s.remaining::double precision`,
    );
    await this.client.query('RESET work_mem');
    await this.client.query(`TRUNCATE ${STAGE.table}`);
    this.staged = 0;
    return rowCount ?? 0;
  }
}
