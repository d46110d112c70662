/**
 * The floor (README.md, Performance): PostgreSQL's own time to hand out the trades (COPY out,
 * in processing order) and to take in every row the full rebuild writes, in one transaction:
 *
 * - the allocations, COPY into a table shaped like fifo_allocations (with its indexes);
 * - the lots, COPY into a table shaped like fifo_lots (with its indexes);
 * - the `remaining_size` rewrite of the bot's rows: one `UPDATE ... FROM` a staged table, of
 *   as many rows as the rebuild mirrors, on a copy of trade_records (LIKE ... INCLUDING ALL)
 *   filled beforehand, untimed, as the bot's inserts left it (remaining_size NULL).
 *
 * No FIFO engine can beat this. The allocations-only floor (COPY out + the allocations + the
 * commit), the floor the benchmark used before, is reported beside it from the same run.
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { ALLOCATION_TARGET } from '../shared/db/allocations.ts';
import { LOT_TARGET } from '../shared/db/lots.ts';
import { SOURCE_ORDER, SOURCE_SELECT } from '../shared/db/trades.ts';

export interface FloorRows {
  /** Allocation rows the rebuild wrote. */
  readonly allocations: number;
  /** Lot rows the rebuild wrote (counted in fifo_lots after it). */
  readonly lots: number;
}

export interface FloorFigures {
  /** The floor: every part below, in one transaction. */
  readonly floor_s: number;
  /** COPY out + the allocations + the commit: the floor before the lots and the mirror counted. */
  readonly floor_allocations_s: number;
  readonly copy_out_s: number;
  readonly allocations_in_s: number;
  readonly lots_in_s: number;
  readonly remaining_update_s: number;
  readonly commit_s: number;
  /** Rows of the trades' copy the UPDATE wrote: the buys the rebuild mirrors. */
  readonly remaining_rows: number;
  /** WAL the server wrote while the floor ran (server-wide: other sessions' writes count too). */
  readonly wal_mb: number;
}

/** A realistic allocation row, repeated with distinct keys: the width and types the rebuild writes. */
const ALLOCATION_ROW = [
  'X-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
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
const ALLOCATION_COLUMNS = ALLOCATION_TARGET.columns.join(', ');

/** A realistic lot row (shared/db/lots.ts's LOT_TARGET columns), repeated with distinct keys. */
const LOT_ROW = [
  'X-1a2b-4c3d-9e4f-5a6b7c8d9e0f',
  'BTC-USD',
  '2026-01-01T00:00:00.000000Z',
  '64123.45',
  '0.641234500000000000',
  '0.01234567',
  '0.00617283',
  '395.83260817',
  '1',
  '00000000-0000-4000-8000-000000000000',
].join('\t');
const LOT_COLUMNS = LOT_TARGET.columns.join(', ');

/** `count` COPY lines of `row`, each with its own key in place of the leading X. */
async function* copies(row: string, count: number) {
  const rest = `${row.slice(1)}\n`;
  let buffer = '';
  for (let i = 0; i < count; i++) {
    // Distinct keys, so the unique indexes do real work.
    buffer += `${i.toString(16).padStart(8, '0')}${rest}`;
    if (buffer.length > 1 << 16) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer) yield buffer;
}

/** The server's current WAL position. */
export async function walPosition(client: pg.ClientBase): Promise<string> {
  const { rows } = await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
  return rows[0]!.lsn;
}

/** MB of WAL written since `from`. */
export async function walSince(client: pg.ClientBase, from: string): Promise<number> {
  const { rows } = await client.query<{ bytes: string }>(
    'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::text AS bytes',
    [from],
  );
  return Number(rows[0]!.bytes) / 2 ** 20;
}

const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;

/**
 * Measures the floor on the database the rebuild just ran on: the lots' new values are taken
 * from fifo_lots (version 1) as the rows of the staged table, so the UPDATE writes the values
 * and the number of rows the rebuild did.
 */
export async function measureFloor(pool: pg.Pool, rows: FloorRows): Promise<FloorFigures> {
  const client = await pool.connect();
  const drop =
    'DROP TABLE IF EXISTS bench_floor_allocations, bench_floor_lots, bench_floor_trades, bench_floor_stage';
  try {
    await client.query(drop);
    await client.query('CREATE TABLE bench_floor_allocations (LIKE fifo_allocations INCLUDING ALL)');
    await client.query('CREATE TABLE bench_floor_lots (LIKE fifo_lots INCLUDING ALL)');
    // The bot's rows as its inserts left them, remaining_size not yet written: every column
    // copied but that one. Untimed, then vacuumed as the benchmark vacuums trade_records.
    await client.query('CREATE TABLE bench_floor_trades (LIKE trade_records INCLUDING ALL)');
    const { rows: columns } = await client.query<{ name: string }>(
      `SELECT quote_ident(attname) AS name FROM pg_attribute
        WHERE attrelid = 'trade_records'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    );
    const names = columns.map((c) => c.name);
    const values = names.map((n) => (n === 'remaining_size' ? 'NULL' : n));
    await client.query(
      `INSERT INTO bench_floor_trades (${names.join(', ')}) SELECT ${values.join(', ')} FROM trade_records`,
    );
    // The staged values: each buy's lot as the rebuild computed it, as text (shared/db/remaining-stage.ts).
    await client.query(
      `CREATE TABLE bench_floor_stage AS
         SELECT buy_order_id AS order_id, remaining_size::text AS remaining
         FROM fifo_lots WHERE allocation_version = 1`,
    );
    await client.query('VACUUM ANALYZE bench_floor_trades');
    await client.query('ANALYZE bench_floor_stage');
    await client.query('CHECKPOINT');

    const walBefore = await walPosition(client);
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
    const copyOut = seconds(started);
    let mark = process.hrtime.bigint();
    await pipeline(
      copies(ALLOCATION_ROW, rows.allocations),
      client.query(copyFrom(`COPY bench_floor_allocations (${ALLOCATION_COLUMNS}) FROM STDIN`)),
    );
    const allocationsIn = seconds(mark);
    mark = process.hrtime.bigint();
    await pipeline(
      copies(LOT_ROW, rows.lots),
      client.query(copyFrom(`COPY bench_floor_lots (${LOT_COLUMNS}) FROM STDIN`)),
    );
    const lotsIn = seconds(mark);
    mark = process.hrtime.bigint();
    // As the rebuild writes the mirror (shared/db/remaining-stage.ts): one hash join, in memory.
    await client.query(`SET LOCAL work_mem = '128MB'`);
    const { rowCount } = await client.query(
      `UPDATE bench_floor_trades t SET remaining_size = s.remaining::double precision
       FROM bench_floor_stage s
       WHERE t.order_id = s.order_id AND t.remaining_size IS DISTINCT FROM s.remaining::double precision`,
    );
    const remainingUpdate = seconds(mark);
    mark = process.hrtime.bigint();
    await client.query('COMMIT');
    const commit = seconds(mark);
    const floor = seconds(started);
    const walMb = await walSince(client, walBefore);
    if (bytes === 0) throw new Error('the floor read no trades');
    return {
      floor_s: floor,
      floor_allocations_s: copyOut + allocationsIn + commit,
      copy_out_s: copyOut,
      allocations_in_s: allocationsIn,
      lots_in_s: lotsIn,
      remaining_update_s: remainingUpdate,
      commit_s: commit,
      remaining_rows: rowCount ?? 0,
      wal_mb: walMb,
    };
  } finally {
    await client.query('ROLLBACK').catch(() => {});
    await client.query(drop).catch(() => {});
    client.release();
  }
}
