/**
 * trade_records.remaining_size for a whole rebuild, applied by one UPDATE at the end.
 *
 * Each buy's new value goes to a temporary table as the symbols finish (no WAL, no memory
 * held by the job); one UPDATE joins it with trade_records after the allocations are
 * written. Keyed updates batched between the allocation writes competed with them for the
 * buffer cache and for the writer's time; one hash join reads trade_records once. Only
 * values that differ as float8, the column's type, are written.
 */
import type pg from 'pg';
import { type BulkTarget, bulkInsert } from './bulk.ts';
import { markMirrorWrites } from './lots.ts';

const STAGE: BulkTarget = {
  table: 'fifo_remaining_stage',
  columns: ['order_id', 'remaining'],
  types: ['varchar', 'text'],
};

export class RemainingSizeStage {
  private staged = 0;

  private constructor(
    private readonly client: pg.ClientBase,
    private readonly supportsCopy: boolean,
  ) {}

  /** Creates the stage; it lives until the caller's transaction ends. */
  static async open(client: pg.ClientBase, supportsCopy: boolean): Promise<RemainingSizeStage> {
    await client.query(
      `CREATE TEMPORARY TABLE ${STAGE.table} (order_id varchar NOT NULL, remaining text NOT NULL) ON COMMIT DROP`,
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
