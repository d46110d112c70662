/**
 * Helpers for the adoption tests: a database the real CLI can connect to while the test holds
 * its own pool, fingerprints of the catalog and the data, the exact bytes of the legacy
 * columns, and the CLI as a child process.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { Decimal } from 'decimal.js';
import type pg from 'pg';
import { openDatabase } from '../../shared/db/pool.ts';
import { ALLOCATION_COLUMNS } from '../../shared/fifo/index.ts';
import { generateTrades, seededRandom } from '../../shared/sample/generator.ts';
import { createEmptyDatabase, serverUrl, type TestDatabase } from '../support/database.ts';

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * An empty database that accepts several connections: the test's pool and the CLI's. On the
 * server it is createEmptyDatabase(); embedded, a PGlite whose socket server takes a few
 * connections (queries are queued, transactions kept together), used one at a time here.
 */
export async function createSharedDatabase(): Promise<TestDatabase> {
  if (serverUrl) return createEmptyDatabase();
  const pglite = await PGlite.create();
  const server = new PGLiteSocketServer({ db: pglite, port: 0, host: '127.0.0.1', maxConnections: 8 });
  await server.start();
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  const db = await openDatabase({ connectionString: url, max: 1 });
  return {
    ...db,
    url,
    isServer: false,
    async drop() {
      await db.close();
      await server.stop();
      await pglite.close();
    },
  };
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `node bin/fifo.js ...args` against `url`; the exit code is data, not an exception. */
export function runCli(url: string, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => k !== 'FIFO_ALLOCATION_VERSION' && !k.startsWith('REPORT_')),
  );
  return new Promise((done) => {
    execFile(
      'node',
      ['bin/fifo.js', ...args],
      { cwd: repo, timeout: 120_000, env: { ...base, DATABASE_URL: url, ...env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** Runs a --json command that must succeed and returns its object. */
export async function cliJson<T = Record<string, unknown>>(url: string, args: string[]): Promise<T> {
  const run = await runCli(url, args);
  if (run.code !== 0) {
    throw new Error(`fifo ${args.join(' ')} exited ${run.code}\n${run.stderr}\n${run.stdout}`);
  }
  return JSON.parse(run.stdout) as T;
}

type Queryable = pg.Pool | pg.ClientBase;

/**
 * Every user-visible catalog entry of the database's own schemas (relations, columns,
 * constraints, indexes, triggers, views, functions), one md5. Roles are cluster-wide and
 * other test files create them concurrently: left out.
 */
export async function catalogFingerprint(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ fp: string }>(
    `WITH ns AS (SELECT oid FROM pg_namespace
                 WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg_toast%'
                   AND nspname NOT LIKE 'pg_temp%'),
     entries AS (
       SELECT 'rel ' || c.relname || ' ' || c.relkind::text || ' ' || c.relnatts AS x
       FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM ns)
       UNION ALL
       SELECT 'att ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' '
              || a.attnotnull || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE c.relnamespace IN (SELECT oid FROM ns) AND a.attnum > 0 AND NOT a.attisdropped
       UNION ALL
       SELECT 'con ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
       WHERE connamespace IN (SELECT oid FROM ns)
       UNION ALL
       SELECT 'idx ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       WHERE c.relnamespace IN (SELECT oid FROM ns)
       UNION ALL
       SELECT 'trg ' || pg_get_triggerdef(oid) || ' ' || tgenabled::text FROM pg_trigger WHERE NOT tgisinternal
       UNION ALL
       SELECT 'view ' || c.relname || ' ' || pg_get_viewdef(c.oid) FROM pg_class c
       WHERE c.relkind IN ('v', 'm') AND c.relnamespace IN (SELECT oid FROM ns)
       UNION ALL
       SELECT 'fn ' || p.oid::regprocedure::text || ' ' || md5(p.prosrc) || ' ' || p.prosecdef
       FROM pg_proc p WHERE p.pronamespace IN (SELECT oid FROM ns)
     )
     SELECT md5(string_agg(x, E'\\n' ORDER BY x)) AS fp FROM entries`,
  );
  return rows[0]!.fp;
}

/** Every row of every table of the public schema, one md5 per table (float8 at full precision). */
export async function dataFingerprint(db: Queryable): Promise<Record<string, string>> {
  const { rows: tables } = await db.query<{ name: string }>(
    `SELECT c.relname::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
  );
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    // Identifier from the catalog, quoted.
    const { rows } = await db.query<{ fp: string }>(
      `SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) || ':' || count(*) AS fp
       FROM "${name.replaceAll('"', '""')}" t`,
    );
    out[name] = rows[0]!.fp;
  }
  return out;
}

/** The legacy columns of trade_records: the exact bytes of each float8 (float8send) and its text. */
export async function legacyBytes(
  db: pg.ClientBase,
  table = 'trade_records',
): Promise<Record<string, unknown>[]> {
  await db.query('BEGIN');
  try {
    await db.query('SET LOCAL extra_float_digits = 3');
    const floats = [
      'realized_profit',
      'pnl_usd',
      'cost_basis_usd',
      'sale_proceeds_usd',
      'net_sale_proceeds_usd',
    ];
    const { rows } = await db.query(
      `SELECT order_id, parent_id,
              ${floats.map((c) => `encode(float8send(${c}), 'hex') AS ${c}_bytes, ${c}::text AS ${c}_text`).join(', ')}
       FROM ${table} ORDER BY order_id`,
    );
    return rows;
  } finally {
    await db.query('COMMIT');
  }
}

/** Runs `work` with a client of the pool, released afterwards. */
export async function withClient<T>(db: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await db.connect();
  try {
    return await work(client);
  } finally {
    client.release();
  }
}

export async function pendingChanges(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM fifo_trade_changes');
  return Number(rows[0]!.n);
}

export const VIEWS = [
  'v_allocation_health',
  'v_unmatched_sells',
  'v_pnl_by_symbol',
  'v_allocation_discrepancies',
] as const;

// --- the bot's own programs, as docs/design.md §3.1 describes them ----------------------

/** One fill as the bot's trade recorder receives it; amounts are decimal text (float8 columns). */
export interface BotFill {
  readonly order_id: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly order_time: string;
  readonly price: string;
  readonly size: string;
  /** NULL means 0. */
  readonly fee: string | null;
  /** `filled`, `done`, or NULL on rows back-filled from the exchange. */
  readonly status: string | null;
  readonly source: string;
  readonly trigger: string;
  readonly ingest_via: string;
}

const Dec = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_EVEN });
const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

/**
 * A seeded history of the bot's fills: shared/sample/generator.ts's trades (several symbols,
 * partial sells, sells that span lots, oversells, fees), with statuses `filled`/`done`/NULL,
 * a few NULL fees, strategy triggers and sources, and per-fill rows `<uuid>-FILL-<n>` beside
 * some orders' own rows (they split the order's size and fee).
 */
export function botFills(options: {
  trades: number;
  seed: number;
  start: string;
  symbols?: number;
}): BotFill[] {
  const random = seededRandom(options.seed + 1);
  const out: BotFill[] = [];
  for (const t of generateTrades({
    trades: options.trades,
    symbols: options.symbols ?? 6,
    seed: options.seed,
    start: options.start,
  })) {
    const roll = random();
    const status = roll < 0.12 ? null : roll < 0.2 ? 'done' : 'filled';
    const fill: BotFill = {
      order_id: t.order_id,
      symbol: t.symbol,
      side: t.side,
      order_time: t.order_time,
      price: t.price,
      size: t.size,
      fee: random() < 0.05 ? null : t.fee,
      status,
      source:
        status === null
          ? 'reconciled'
          : pick(random, ['webhook', 'websocket', 'passivemm', 'manual'] as const),
      trigger: JSON.stringify({ trigger: pick(random, ['roc_momo', 'tp', 'sl', 'grid'] as const) }),
      ingest_via: status === null ? 'rest' : pick(random, ['websocket', 'rest'] as const),
    };
    out.push(fill);
    if (random() < 0.04) {
      const size = new Dec(t.size);
      const first = size.div(2).toDecimalPlaces(8, Decimal.ROUND_DOWN);
      const fee = new Dec(fill.fee ?? 0);
      const firstFee = fee.div(2).toDecimalPlaces(8, Decimal.ROUND_DOWN);
      out.push(
        { ...fill, order_id: `${t.order_id}-FILL-1`, size: first.toFixed(), fee: firstFee.toFixed() },
        {
          ...fill,
          order_id: `${t.order_id}-FILL-2`,
          size: size.minus(first).toFixed(),
          fee: fee.minus(firstFee).toFixed(),
        },
      );
    }
  }
  return out;
}

/**
 * The trade recorder's upsert (one row per fill, or many at once for a back-fill); for buys the
 * update leaves the mirror and the legacy columns alone.
 */
const RECORD_SQL = `
INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, total_fees_usd, "trigger", order_type,
                           status, source, ingest_via, remaining_size, pnl_usd, realized_profit, cost_basis_usd,
                           sale_proceeds_usd, net_sale_proceeds_usd, parent_id)
SELECT u.order_id, u.symbol, u.side, u.order_time::timestamptz, u.price::double precision, u.size::double precision,
       u.fee::double precision, u.trg::jsonb, 'market', u.status, u.source, u.ingest_via,
       CASE WHEN u.side = 'buy' THEN u.size::double precision END, u.pnl, u.pnl, u.cost, u.proceeds, u.net, u.parent
FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
            $9::varchar[], $10::varchar[], $11::text[], $12::float8[], $13::float8[], $14::float8[], $15::float8[],
            $16::varchar[])
  AS u(order_id, symbol, side, order_time, price, size, fee, trg, status, source, ingest_via, pnl, cost, proceeds,
       net, parent)
ON CONFLICT (order_id) DO UPDATE SET
  symbol = EXCLUDED.symbol, side = EXCLUDED.side, order_time = EXCLUDED.order_time, price = EXCLUDED.price,
  size = EXCLUDED.size, total_fees_usd = EXCLUDED.total_fees_usd, "trigger" = EXCLUDED."trigger",
  order_type = EXCLUDED.order_type, status = EXCLUDED.status, source = EXCLUDED.source,
  ingest_via = EXCLUDED.ingest_via, last_reconciled_at = now(), last_reconciled_via = EXCLUDED.ingest_via,
  pnl_usd = CASE WHEN EXCLUDED.side = 'buy' THEN trade_records.pnl_usd
                 ELSE coalesce(EXCLUDED.pnl_usd, trade_records.pnl_usd) END,
  realized_profit = CASE WHEN EXCLUDED.side = 'buy' THEN trade_records.realized_profit
                         ELSE coalesce(EXCLUDED.realized_profit, trade_records.realized_profit) END,
  cost_basis_usd = coalesce(EXCLUDED.cost_basis_usd, trade_records.cost_basis_usd),
  sale_proceeds_usd = coalesce(EXCLUDED.sale_proceeds_usd, trade_records.sale_proceeds_usd),
  net_sale_proceeds_usd = coalesce(EXCLUDED.net_sale_proceeds_usd, trade_records.net_sale_proceeds_usd),
  parent_id = CASE WHEN EXCLUDED.side = 'buy' THEN trade_records.parent_id
                   ELSE coalesce(EXCLUDED.parent_id, trade_records.parent_id) END`;

type Legacy = { pnl: number; cost: number; proceeds: number; net: number; parent: string | null };
type MirrorLot = {
  order_id: string;
  time: number;
  price: number;
  size: number;
  fee: number;
  remaining: number;
};

/** The columns of fifo_allocations the bot's FIFO script writes: the slice's, then its version and batch. */
const BOT_ALLOCATION_COLUMNS = [...ALLOCATION_COLUMNS, 'allocation_version', 'allocation_batch_id'] as const;

type SourceTrade = {
  order_id: string;
  symbol: string;
  side: string;
  order_time: string;
  price: string;
  size: string;
  fee: string | null;
};

/**
 * The bot's programs that share the database with fifo-ledger: the trade recorder (with its
 * inline PnL and `remaining_size` while `inlinePnl` is on), cancellations, the startup
 * maintenance and the bot's own FIFO script (version 2), each writing as docs/design.md §3.1 says.
 * Switch them off as docs/migration.md's cut-over does: `inlinePnl`, `fifoCron`,
 * `maintenanceRewrites`.
 */
export class BotPrograms {
  inlinePnl = true;
  fifoCron = true;
  maintenanceRewrites = true;

  constructor(private readonly db: pg.Pool) {}

  /**
   * The trade recorder: one upsert per fill as it arrives, or `perStatement` fills per upsert
   * for a back-fill (the same statement; the history before fifo-ledger is installed). Each
   * sell's inline PnL is computed as it is recorded; its writes to the mirror follow its upsert.
   * A `reconcilePass` re-upserts fills the exchange reports again (corrected, or identical),
   * computing no inline PnL: the legacy columns stay as they are.
   */
  async record(
    fills: readonly BotFill[],
    options: { perStatement?: number; reconcilePass?: boolean } = {},
  ): Promise<void> {
    const perStatement = options.perStatement ?? 1;
    const inline = this.inlinePnl && !options.reconcilePass;
    const mirror = inline ? await this.readMirror() : new Map<string, MirrorLot[]>();
    for (let i = 0; i < fills.length; i += perStatement) {
      const chunk = fills.slice(i, i + perStatement);
      const legacy = chunk.map((f) => (inline ? inlinePnl(mirror, f) : null));
      const col = <K extends keyof BotFill>(k: K) => chunk.map((f) => f[k]);
      const leg = <K extends keyof Legacy>(k: K) => legacy.map((l) => l?.value[k] ?? null);
      await this.db.query(RECORD_SQL, [
        col('order_id'),
        col('symbol'),
        col('side'),
        col('order_time'),
        col('price'),
        col('size'),
        col('fee'),
        col('trigger'),
        col('status'),
        col('source'),
        col('ingest_via'),
        leg('pnl'),
        leg('cost'),
        leg('proceeds'),
        leg('net'),
        leg('parent'),
      ]);
      const written = new Map(legacy.flatMap((l) => l?.mirrorWrites ?? []));
      if (written.size > 0) {
        await this.db.query(
          `UPDATE trade_records t SET remaining_size = u.remaining
           FROM unnest($1::varchar[], $2::float8[]) AS u(order_id, remaining) WHERE t.order_id = u.order_id`,
          [[...written.keys()], [...written.values()]],
        );
      }
    }
  }

  /** The buys' remaining_size as the inline code reads it, per symbol, oldest first. */
  private async readMirror(): Promise<Map<string, MirrorLot[]>> {
    const { rows } = await this.db.query<MirrorLot & { symbol: string; time: Date }>(
      `SELECT order_id, symbol, order_time AS time, price, size, coalesce(total_fees_usd, 0) AS fee,
              coalesce(remaining_size, 0) AS remaining
       FROM trade_records WHERE side = 'buy' AND order_id !~ '-FILL-' ORDER BY order_time, order_id`,
    );
    const out = new Map<string, MirrorLot[]>();
    for (const r of rows) {
      const lots = out.get(r.symbol) ?? [];
      lots.push({ ...r, time: r.time.getTime() });
      out.set(r.symbol, lots);
    }
    return out;
  }

  /** Cancellation: the websocket path deletes the cancelled orders' rows. */
  async cancel(orderIds: readonly string[]): Promise<void> {
    for (const id of orderIds) await this.db.query('DELETE FROM trade_records WHERE order_id = $1', [id]);
  }

  /**
   * Startup maintenance (every bot start): buys' remaining_size = size where NULL or 0, and,
   * while the inline PnL is on, parent_id = order_id on buys and the deprecated PnL columns of
   * some sells. Returns the buys whose remaining_size it rewrote.
   */
  async restart(): Promise<number> {
    if (!this.maintenanceRewrites) return 0;
    const { rowCount } = await this.db.query(
      `UPDATE trade_records SET remaining_size = size
       WHERE side = 'buy' AND (remaining_size IS NULL OR remaining_size = 0)`,
    );
    if (this.inlinePnl) {
      await this.db.query(
        `UPDATE trade_records SET parent_id = order_id WHERE side = 'buy' AND parent_id IS DISTINCT FROM order_id`,
      );
      await this.db.query(
        `UPDATE trade_records SET realized_profit = pnl_usd
         WHERE side = 'sell' AND pnl_usd IS NOT NULL AND realized_profit IS DISTINCT FROM pnl_usd`,
      );
    }
    return rowCount ?? 0;
  }

  /**
   * The bot's FIFO script, `--version 2 --all-symbols --force` (nightly: one transaction that
   * deletes and rewrites version 2, one log row, the review-queue upserts) or, with `symbols`,
   * `--since '10 minutes ago'` (those symbols only, no log row). Its own arithmetic: per-unit
   * fees and costs, rounded to 8 places per row. Returns the rows written.
   */
  async fifo(symbols?: readonly string[]): Promise<number> {
    if (!this.fifoCron) return 0;
    const started = new Date();
    const { rows: trades } = await this.db.query<SourceTrade>(
      `SELECT order_id, symbol, lower(side) AS side, order_time::text AS order_time, price::text AS price,
              size::text AS size, total_fees_usd::text AS fee
       FROM trade_records
       WHERE (status IS NULL OR lower(status) IN ('filled', 'done')) AND order_id !~ '-FILL-[0-9]+$'
         AND ($1::varchar[] IS NULL OR symbol = ANY ($1))
       ORDER BY symbol, order_time, CASE lower(side) WHEN 'buy' THEN 0 ELSE 1 END, order_id COLLATE "C"`,
      [symbols ?? null],
    );
    const batch = randomUUID();
    const rows = botAllocations(trades, batch);
    const client = await this.db.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `DELETE FROM fifo_allocations WHERE allocation_version = 2 AND ($1::varchar[] IS NULL OR symbol = ANY ($1))`,
        [symbols ?? null],
      );
      for (let i = 0; i < rows.length; i += 1000) {
        const chunk = rows.slice(i, i + 1000);
        const width = BOT_ALLOCATION_COLUMNS.length;
        const values = chunk
          .map((_, r) => `(${BOT_ALLOCATION_COLUMNS.map((_, c) => `$${r * width + c + 1}`).join(', ')})`)
          .join(',\n');
        await client.query(
          `INSERT INTO fifo_allocations (${BOT_ALLOCATION_COLUMNS.join(', ')}) VALUES ${values}`,
          chunk.flatMap((row) => BOT_ALLOCATION_COLUMNS.map((c) => row[c])),
        );
      }
      for (const row of rows.filter((r) => r.buy_order_id === null)) {
        await client.query(
          `INSERT INTO manual_review_queue (order_id, issue_type, severity, description)
           VALUES ($1, 'unmatched_sell', 'medium', $2)
           ON CONFLICT (order_id, issue_type) DO UPDATE SET description = EXCLUDED.description, updated_at = now()`,
          [row.sell_order_id, `${row.allocated_size} sold with no open lot`],
        );
      }
      if (!symbols) {
        const pnl = rows.reduce((sum, r) => (r.pnl_usd === null ? sum : sum.plus(r.pnl_usd)), new Dec(0));
        await client.query(
          `INSERT INTO fifo_computation_log (allocation_version, allocation_batch_id, computation_start,
             computation_end, computation_duration_ms, status, buys_processed, sells_processed, allocations_created,
             symbols_processed, total_pnl_computed, computation_mode, triggered_by)
           VALUES (2, $1, $2, clock_timestamp(), $3, 'completed', $4, $5, $6, $7::varchar[], $8, 'full', 'manual')`,
          [
            batch,
            started,
            Date.now() - started.getTime(),
            trades.filter((t) => t.side === 'buy').length,
            trades.filter((t) => t.side === 'sell').length,
            rows.length,
            [...new Set(trades.map((t) => t.symbol))],
            pnl.toFixed(),
          ],
        );
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
    return rows.length;
  }
}

/**
 * The old inline PnL of one fill, in JavaScript numbers (the bot's floats): a new buy opens a
 * mirror lot; a sell takes from the lots whose `remaining_size` mirror is still open, oldest
 * first, and decrements it. After a restart has re-inflated consumed lots, it matches sells
 * against those stale lots.
 */
function inlinePnl(
  mirror: Map<string, MirrorLot[]>,
  f: BotFill,
): { value: Legacy; mirrorWrites: [string, number][] } | null {
  if (/-FILL-\d+$/.test(f.order_id)) return null;
  const lots = mirror.get(f.symbol) ?? [];
  mirror.set(f.symbol, lots);
  const time = Date.parse(f.order_time);
  if (f.side === 'buy') {
    if (!lots.some((l) => l.order_id === f.order_id)) {
      const size = Number(f.size);
      lots.push({
        order_id: f.order_id,
        time,
        price: Number(f.price),
        size,
        fee: Number(f.fee ?? 0),
        remaining: size,
      });
      lots.sort((a, b) => a.time - b.time || (a.order_id < b.order_id ? -1 : 1));
    }
    return null;
  }
  let need = Number(f.size);
  let cost = 0;
  let parent: string | null = null;
  const mirrorWrites: [string, number][] = [];
  for (const lot of lots) {
    if (need <= 1e-12 || lot.time > time) break;
    if (lot.remaining <= 0) continue;
    const take = Math.min(need, lot.remaining);
    cost += take * lot.price + (take / lot.size) * lot.fee;
    need -= take;
    parent ??= lot.order_id;
    lot.remaining = lot.remaining - take < 1e-12 ? 0 : lot.remaining - take;
    mirrorWrites.push([lot.order_id, lot.remaining]);
  }
  const proceeds = Number(f.price) * Number(f.size);
  const net = proceeds - Number(f.fee ?? 0);
  return { value: { pnl: net - cost, cost, proceeds, net, parent }, mirrorWrites };
}

type BotAllocation = Record<(typeof BOT_ALLOCATION_COLUMNS)[number], string | number | null>;

/** The bot's FIFO over trades sorted per symbol: per-unit cost and fees, 8 places per row. */
function botAllocations(trades: readonly SourceTrade[], batch: string): BotAllocation[] {
  const out: BotAllocation[] = [];
  const round = (d: Decimal) => d.toDecimalPlaces(8).toFixed();
  let symbol = '';
  let lots: { t: SourceTrade; perUnit: Decimal; remaining: Decimal }[] = [];
  for (const t of trades) {
    if (t.symbol !== symbol) {
      symbol = t.symbol;
      lots = [];
    }
    const size = new Dec(t.size);
    const perUnit = new Dec(t.fee ?? 0).div(size).toDecimalPlaces(18);
    if (t.side === 'buy') {
      lots.push({ t, perUnit, remaining: size });
      continue;
    }
    const price = new Dec(t.price);
    let need = size;
    const row = (a: Decimal, lot: (typeof lots)[number] | null): BotAllocation => {
      const proceeds = a.times(price).toDecimalPlaces(8);
      const net = proceeds.minus(a.times(perUnit)).toDecimalPlaces(8);
      const cost = lot ? a.times(new Dec(lot.t.price).plus(lot.perUnit)).toDecimalPlaces(8) : null;
      return {
        sell_order_id: t.order_id,
        buy_order_id: lot?.t.order_id ?? null,
        symbol: t.symbol,
        allocated_size: a.toFixed(),
        buy_price: lot?.t.price ?? null,
        sell_price: t.price,
        buy_fees_per_unit: lot ? lot.perUnit.toFixed() : null,
        sell_fees_per_unit: perUnit.toFixed(),
        cost_basis_usd: cost ? cost.toFixed() : null,
        proceeds_usd: proceeds.toFixed(),
        net_proceeds_usd: net.toFixed(),
        pnl_usd: cost ? round(net.minus(cost)) : null,
        buy_time: lot?.t.order_time ?? null,
        sell_time: t.order_time,
        allocation_version: 2,
        allocation_batch_id: batch,
        notes: lot ? null : 'unmatched sell: no open lot',
      };
    };
    for (const lot of lots) {
      if (need.isZero()) break;
      if (lot.remaining.isZero()) continue;
      const a = Dec.min(need, lot.remaining);
      out.push(row(a, lot));
      lot.remaining = lot.remaining.minus(a);
      need = need.minus(a);
    }
    if (!need.isZero()) out.push(row(need, null));
  }
  return out;
}
