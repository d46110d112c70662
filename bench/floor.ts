/**
 * The floor: what PostgreSQL itself needs to hand the trades out in processing order and to
 * take the same number of allocation rows in. No FIFO engine can beat this.
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { SOURCE_ORDER, SOURCE_SELECT } from '../shared/db/trades.ts';

export async function measureFloor(pool: pg.Pool, allocationRows: number): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('DROP TABLE IF EXISTS bench_floor_allocations');
    await client.query('CREATE TABLE bench_floor_allocations (LIKE fifo_allocations INCLUDING ALL)');
    // A realistic row, repeated: the same width and types the rebuild writes.
    const row = [
      '0b3f5a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
      '7c8d9e0f-1a2b-4c3d-9e4f-5a6b7c8d9e0f',
      'BTC-USD',
      '0.01234567',
      '64123.45',
      '65001.1',
      '0.641234500000000000',
      '0.650011000000000000',
      '791.66521634',
      '802.47032159',
      '801.66785127',
      '10.00263493',
      '2026-01-01T00:00:00.000000Z',
      '2026-01-02T00:00:00.000000Z',
      '\\N',
      '1',
      '00000000-0000-4000-8000-000000000000',
    ].join('\t');
    const columns =
      'sell_order_id, buy_order_id, symbol, allocated_size, buy_price, sell_price, buy_fees_per_unit, ' +
      'sell_fees_per_unit, cost_basis_usd, proceeds_usd, net_proceeds_usd, pnl_usd, buy_time, sell_time, notes, ' +
      'allocation_version, allocation_batch_id';
    const started = process.hrtime.bigint();
    await client.query('BEGIN');
    let bytes = 0;
    await pipeline(
      client.query(copyTo(`COPY (${SOURCE_SELECT} ORDER BY symbol COLLATE "C", ${SOURCE_ORDER}) TO STDOUT`)),
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          bytes += chunk.length;
          done();
        },
      }),
    );
    async function* rows() {
      const chunk = `${row.replace('0b3f', 'X')}\n`;
      let buffer = '';
      for (let i = 0; i < allocationRows; i++) {
        // Distinct keys, so the unique index does real work.
        buffer += chunk.replace('X', String(i));
        if (buffer.length > 1 << 16) {
          yield buffer;
          buffer = '';
        }
      }
      if (buffer) yield buffer;
    }
    await pipeline(rows, client.query(copyFrom(`COPY bench_floor_allocations (${columns}) FROM STDIN`)));
    await client.query('COMMIT');
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (bytes === 0) throw new Error('the floor read no trades');
    return seconds;
  } finally {
    await client.query('DROP TABLE IF EXISTS bench_floor_allocations').catch(() => {});
    client.release();
  }
}
