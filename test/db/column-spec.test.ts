/**
 * The column specs (shared/tables/) are the one place a table's shape is written: a
 * column added to a spec reaches every piece derived from it, and every spec is what the
 * migrations build.
 */
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ALLOCATIONS } from '../../shared/tables/allocations.ts';
import * as bookkeeping from '../../shared/tables/bookkeeping.ts';
import { COMPUTATION_LOG } from '../../shared/tables/computation-log.ts';
import { LOTS } from '../../shared/tables/lots.ts';
import type { ColumnSpec, TableSpec } from '../../shared/tables/spec.ts';
import { TRADE_RECORDS, TRADE_SOURCE } from '../../shared/tables/trade-source.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

/** `table` with `added` after the column `after` (at the end when null). */
function withColumn(table: TableSpec, added: ColumnSpec, after: string | null = null): TableSpec {
  const at = after === null ? table.columns.length : table.columns.findIndex((c) => c.name === after) + 1;
  return { ...table, columns: [...table.columns.slice(0, at), added, ...table.columns.slice(at)] };
}

/** A client that records what it is asked and answers with no rows. */
function recordingClient(): { client: pg.ClientBase; sql: string[] } {
  const sql: string[] = [];
  const query = async (text: string) => {
    sql.push(text);
    return { rows: [], rowCount: 0 };
  };
  return { client: { query } as unknown as pg.ClientBase, sql };
}

describe('a column added to a spec', () => {
  afterEach(() => {
    vi.doUnmock('../../shared/tables/allocations.ts');
    vi.doUnmock('../../shared/tables/lots.ts');
    vi.doUnmock('../../shared/tables/trade-source.ts');
    vi.doUnmock('../../shared/tables/computation-log.ts');
    vi.resetModules();
  });

  /** The derived modules, loaded anew over specs that each have one column more. */
  async function derivedFromFixture() {
    vi.resetModules();
    vi.doMock('../../shared/tables/allocations.ts', () => ({
      ALLOCATIONS: withColumn(ALLOCATIONS, {
        name: 'fee_usd',
        type: 'numeric',
        kind: 'usd',
        nullable: true,
        from: 'row',
        addedIfMissing: true,
        nullWhen: 'on the unmatched row',
      }),
    }));
    vi.doMock('../../shared/tables/lots.ts', () => ({
      LOTS: withColumn(LOTS, {
        name: 'opened_at',
        type: 'timestamp with time zone',
        kind: 'time',
        nullable: false,
        from: 'row',
      }),
    }));
    vi.doMock('../../shared/tables/trade-source.ts', () => ({
      TRADE_RECORDS,
      TRADE_SOURCE: withColumn(
        TRADE_SOURCE,
        { name: 'venue', type: 'text', kind: 'text', nullable: true },
        'side',
      ),
    }));
    vi.doMock('../../shared/tables/computation-log.ts', () => ({
      COMPUTATION_LOG: withColumn(COMPUTATION_LOG, {
        name: 'partitions',
        type: 'integer',
        kind: 'count',
        nullable: true,
        addedIfMissing: true,
        insert: 'always',
      }),
    }));
    return {
      source: (await import('../../shared/tables/trade-source.ts')).TRADE_SOURCE,
      fifo: await import('../../shared/fifo/index.ts'),
      allocations: await import('../../shared/db/allocations.ts'),
      lots: await import('../../shared/db/lots.ts'),
      digests: await import('../../shared/db/digests.ts'),
      trades: await import('../../shared/db/trades.ts'),
      expected: await import('../../shared/legacy/expected-schema.ts'),
    };
  }

  it('reaches the COPY lists and types, the canonical SQL, the source parsing and the expected schema', async () => {
    // Why: a table's shape used to be spelled in six places; adding a column is now one edit
    // of its spec (and a migration), and nothing derived may lag behind.
    // Prepare
    const { source, fifo, allocations, lots, digests, trades, expected } = await derivedFromFixture();
    const stored = recordingClient();

    // Act
    await lots.readStoredLots(stored.client, 1, 'BTC-USD');
    await lots.upsertLots(stored.client, 1, [{ opened_at: '2026-01-01T00:00:00.000000Z' } as never], 'b');
    await digests.storedAllocationDigests(stored.client, 1);
    await digests.storedLotDigests(stored.client, 1);
    const readRow = trades.sourceRowReader(trades.sourceColumns(source));
    const readByOldPositions = trades.sourceRowReader(trades.sourceColumns(TRADE_SOURCE));
    const line = [
      's1',
      'BTC-USD',
      'sell',
      'Coinbase',
      '2026-01-02T00:00:00.000000Z',
      '3',
      '2',
      '0.1',
      null,
      null,
    ];
    const table = (name: string) => expected.EXPECTED_TABLES.find((t) => t.name === name)!;

    // Assess
    // The engine's rows and the COPY writers: the row's columns, then the run's.
    expect(fifo.ALLOCATION_COLUMNS.at(-1)).toBe('fee_usd');
    expect(allocations.ALLOCATION_TARGET.columns.slice(-3)).toEqual([
      'fee_usd',
      'allocation_version',
      'allocation_batch_id',
    ]);
    expect(allocations.ALLOCATION_TARGET.types.at(-3)).toBe('numeric');
    expect(allocations.ALLOCATION_TARGET.freeText.at(-3)).toBe(false);
    expect(allocations.allocationValues({ fee_usd: '1.5' } as never, 7, 'batch').slice(-3)).toEqual([
      '1.5',
      '7',
      'batch',
    ]);
    expect(lots.LOT_TARGET.columns.slice(-3)).toEqual([
      'opened_at',
      'allocation_version',
      'allocation_batch_id',
    ]);
    expect(lots.LOT_TARGET.types.at(-3)).toBe('timestamp with time zone');
    // The canonical SQL: numbers trimmed, times as UTC text, in selects, upserts and digests.
    expect(allocations.ALLOCATION_SELECT).toContain('trim_scale(fee_usd)::text AS fee_usd');
    expect(stored.sql[0]).toContain(`to_char((opened_at) AT TIME ZONE 'UTC'`);
    expect(stored.sql[1]).toContain('u.opened_at::timestamp with time zone');
    expect(stored.sql[1]).toContain('opened_at = EXCLUDED.opened_at');
    expect(stored.sql[2]).toContain('char_length(trim_scale(fee_usd)::text)');
    expect(stored.sql[3]).toContain(`char_length(to_char((opened_at) AT TIME ZONE 'UTC'`);
    expect(fifo.FREE_TEXT_COLUMNS.has('fee_usd')).toBe(false);
    // The trade source: selected in the spec's order and read by name, wherever it stands.
    expect(trades.SOURCE_SELECT).toMatch(/^SELECT order_id, symbol, side, venue, to_char\(\(order_time\)/);
    expect(readRow(line)).toEqual({
      order_id: 's1',
      symbol: 'BTC-USD',
      side: 'sell',
      order_time: '2026-01-02T00:00:00.000000Z',
      price: '3',
      size: '2',
      fee: '0.1',
      remaining_size: null,
      out_of_range: null,
    });
    // Read where the columns stood before, the venue would pass for the time.
    expect(readByOldPositions(line).order_time).toBe('Coinbase');
    // What adopt --check expects of the tables.
    expect(table('fifo_allocations').columns.at(-1)).toEqual({
      name: 'fee_usd',
      type: 'numeric',
      addedIfMissing: true,
      required: true,
      value: 'usd',
      insert: 'maybe-null',
      nullWhen: 'on the unmatched row',
    });
    expect(
      table('fifo_lots')
        .columns.map((c) => c.name)
        .at(-1),
    ).toBe('opened_at');
    expect(table('fifo_computation_log').columns.at(-1)).toMatchObject({
      name: 'partitions',
      insert: 'always',
      value: 'count',
    });
  });
});

describe('the specs', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  const specs: TableSpec[] = [
    ALLOCATIONS,
    LOTS,
    COMPUTATION_LOG,
    TRADE_RECORDS,
    TRADE_SOURCE,
    ...Object.values(bookkeeping),
  ];

  it('cover every table and view the migrations build', async () => {
    // Prepare
    const { rows } = await db.pool.query<{ name: string }>(
      `SELECT table_name::text AS name FROM information_schema.tables
       WHERE table_schema = 'public' AND table_name <> 'fifo_ledger_migrations' ORDER BY table_name::text COLLATE "C"`,
    );

    // Assess
    expect(rows.map((r) => r.name)).toEqual(specs.map((t) => t.name).sort());
  });

  it.each(specs)('match what the migrations build: $name', async (spec) => {
    // Why: the specs restate the migrations; a migration that adds, retypes or relaxes a
    // column without its spec (or the other way round) must fail here.
    // Prepare
    const { rows } = await db.pool.query<{
      name: string;
      type: string;
      nullable: boolean;
      default: string | null;
      view: boolean;
    }>(
      `SELECT c.column_name::text AS name, format_type(a.atttypid, a.atttypmod) AS type,
                c.is_nullable = 'YES' AS nullable, c.column_default::text AS default,
                k.relkind = 'v' AS view
         FROM information_schema.columns c
         JOIN pg_class k ON k.relname = c.table_name AND k.relnamespace = 'public'::regnamespace
         JOIN pg_attribute a ON a.attrelid = k.oid AND a.attname = c.column_name
         WHERE c.table_schema = 'public' AND c.table_name = $1
         ORDER BY c.ordinal_position`,
      [spec.name],
    );

    // Act
    // A view's columns are all nullable in the catalog: its spec says what readers expect.
    const catalog = rows.map((r) => ({
      name: r.name,
      type: r.type,
      ...(r.view ? {} : { nullable: r.nullable }),
      default: r.default ?? undefined,
    }));
    const specified = spec.columns.map((c) => ({
      name: c.name,
      type: c.type,
      ...(rows[0]?.view ? {} : { nullable: c.nullable }),
      default: c.default,
    }));

    // Assess
    expect(catalog).toEqual(specified);
  });
});
