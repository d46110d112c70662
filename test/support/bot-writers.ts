/**
 * The trading bot's own programs, as they keep writing the shared database after fifo-ledger
 * is installed (docs/design.md §3.1). Each is
 * written the way the bot writes: SQL of its own against its own tables, never fifo-ledger's
 * helpers, and nothing that knows fifo-ledger exists (no fifo_ledger_run, no fifo_* table of
 * fifo-ledger's). Tests play them against fifo-ledger's jobs (test/coexistence/).
 *
 * What each writer did is returned as the rows it left, read inside its own transaction as
 * canonical jsonb text (exact numerics, sorted keys), so a test can later prove that nobody
 * else changed them.
 */
import { Decimal } from 'decimal.js';
import type pg from 'pg';

type Queryable = pg.Pool | pg.ClientBase;

/** The bot's `source` values (docs/design.md §3.1). */
export const BOT_SOURCES = ['webhook', 'websocket', 'passivemm', 'manual', 'reconciled'] as const;
export type BotSource = (typeof BOT_SOURCES)[number];

/** The version the bot's own FIFO script keeps writing. */
export const BOT_VERSION = 2;

/** One fill or order as the trade recorder sees it. Numbers are decimal text, stored as float8. */
export interface RecordedTrade {
  readonly orderId: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  /** ISO-8601. */
  readonly orderTime: string;
  readonly price: string;
  readonly size: string;
  /** Quote currency; null means 0. */
  readonly fee: string | null;
  /** The strategy, stored as `{"trigger": ...}` in the jsonb NOT NULL column. */
  readonly trigger: string;
  readonly source: BotSource;
  /** @default 'filled' */
  readonly status?: 'filled' | 'done' | null;
  /** @default 'market' */
  readonly orderType?: string;
  /** @default 'websocket' */
  readonly ingestVia?: 'websocket' | 'rest' | 'manual' | 'import';
  /** Sells: the legacy inline PnL the recorder still writes into pnl_usd and realized_profit. */
  readonly legacyPnl?: string | null;
  /** A reconcile pass stamps last_reconciled_at / _via (bookkeeping FIFO does not read). */
  readonly reconciledAt?: string | null;
}

/** The per-fill row id beside an order's own row (docs/design.md §3.1). */
export const fillId = (orderId: string, n: number): string => `${orderId}-FILL-${n}`;

/**
 * The trade recorder: one upsert per fill or order over the known columns. New buys get
 * remaining_size = size; on conflict a buy keeps its remaining_size, realized_profit, pnl_usd,
 * parent_id and parent_ids, whatever else is corrected.
 */
export async function recordTrade(db: Queryable, t: RecordedTrade): Promise<void> {
  await db.query(
    `INSERT INTO trade_records AS t
       (order_id, symbol, side, order_time, price, size, total_fees_usd, "trigger", order_type, status, source,
        remaining_size, pnl_usd, realized_profit, ingest_via, last_reconciled_at, last_reconciled_via)
     VALUES ($1, $2, $3::varchar, $4::timestamptz, $5::double precision, $6::double precision, $7::double precision,
             jsonb_build_object('trigger', $8::text), $9, $10, $11,
             CASE WHEN $3::varchar = 'buy' THEN $6::double precision END,
             $12::double precision, $12::double precision, $13, $14::timestamptz,
             CASE WHEN $14::timestamptz IS NULL THEN NULL ELSE 'reconcile' END)
     ON CONFLICT (order_id) DO UPDATE SET
       symbol = EXCLUDED.symbol, side = EXCLUDED.side, order_time = EXCLUDED.order_time,
       price = EXCLUDED.price, size = EXCLUDED.size, total_fees_usd = EXCLUDED.total_fees_usd,
       "trigger" = EXCLUDED."trigger", order_type = EXCLUDED.order_type, status = EXCLUDED.status,
       source = EXCLUDED.source, ingest_via = EXCLUDED.ingest_via,
       last_reconciled_at = coalesce(EXCLUDED.last_reconciled_at, t.last_reconciled_at),
       last_reconciled_via = coalesce(EXCLUDED.last_reconciled_via, t.last_reconciled_via),
       remaining_size = CASE WHEN EXCLUDED.side = 'buy' THEN t.remaining_size ELSE EXCLUDED.remaining_size END,
       pnl_usd = CASE WHEN EXCLUDED.side = 'buy' THEN t.pnl_usd ELSE EXCLUDED.pnl_usd END,
       realized_profit = CASE WHEN EXCLUDED.side = 'buy' THEN t.realized_profit ELSE EXCLUDED.realized_profit END,
       parent_id = CASE WHEN EXCLUDED.side = 'buy' THEN t.parent_id ELSE EXCLUDED.parent_id END,
       parent_ids = CASE WHEN EXCLUDED.side = 'buy' THEN t.parent_ids ELSE EXCLUDED.parent_ids END`,
    [
      t.orderId,
      t.symbol,
      t.side,
      t.orderTime,
      t.price,
      t.size,
      t.fee,
      t.trigger,
      t.orderType ?? 'market',
      t.status === undefined ? 'filled' : t.status,
      t.source,
      t.side === 'sell' ? (t.legacyPnl ?? null) : null,
      t.ingestVia ?? 'websocket',
      t.reconciledAt ?? null,
    ],
  );
}

/** The websocket path on a cancelled order: deletes its row and its per-fill rows. */
export async function cancelOrder(db: Queryable, orderId: string): Promise<string[]> {
  const { rows } = await db.query<{ order_id: string }>(
    `DELETE FROM trade_records WHERE order_id = $1 OR left(order_id, length($1) + 6) = $1 || '-FILL-'
     RETURNING order_id`,
    [orderId],
  );
  return rows.map((r) => r.order_id).sort();
}

export interface MaintenanceResult {
  /** Buys whose remaining_size was NULL or 0 and is now their size. */
  readonly remainingReset: number;
  readonly parentIdsSet: number;
  readonly sellsRewritten: number;
}

/**
 * The bot's startup maintenance: re-inflates buys' remaining_size where it is NULL or 0, sets
 * parent_id = order_id on buys, and rewrites the deprecated PnL columns of the sells that
 * lack them (from the row alone, as the old inline code did).
 */
export async function startupMaintenance(db: Queryable): Promise<MaintenanceResult> {
  const reset = await db.query(
    `UPDATE trade_records SET remaining_size = size
     WHERE side = 'buy' AND (remaining_size IS NULL OR remaining_size = 0)`,
  );
  const parents = await db.query(`UPDATE trade_records SET parent_id = order_id WHERE side = 'buy'`);
  const sells = await db.query(
    `UPDATE trade_records
     SET sale_proceeds_usd = price * size,
         net_sale_proceeds_usd = price * size - coalesce(total_fees_usd, 0),
         pnl_usd = coalesce(pnl_usd, 0), realized_profit = coalesce(realized_profit, pnl_usd, 0)
     WHERE side = 'sell' AND (pnl_usd IS NULL OR sale_proceeds_usd IS NULL)`,
  );
  return {
    remainingReset: reset.rowCount ?? 0,
    parentIdsSet: parents.rowCount ?? 0,
    sellsRewritten: sells.rowCount ?? 0,
  };
}

/** What the bot's tables hold after one of its writes, as canonical jsonb text. */
export interface BotState {
  /** fifo_allocations of version 2, by id. */
  readonly allocations: string[];
  /** manual_review_queue, by id. */
  readonly queue: string[];
}

/** Reads the bot's version 2 and its review queue, as the given session sees them. */
export async function readBotState(db: Queryable): Promise<BotState> {
  const { rows: allocations } = await db.query<{ row: string }>(
    `SELECT to_jsonb(a)::text AS row FROM fifo_allocations a WHERE allocation_version = $1 ORDER BY id`,
    [BOT_VERSION],
  );
  const { rows: queue } = await db.query<{ row: string }>(
    'SELECT to_jsonb(q)::text AS row FROM manual_review_queue q ORDER BY id',
  );
  return { allocations: allocations.map((r) => r.row), queue: queue.map((r) => r.row) };
}

// ---------------------------------------------------------------------------------------------
// The bot's own FIFO script (cron): its own simple FIFO, in its own order, with its own rounding.
// ---------------------------------------------------------------------------------------------

const D = Decimal.clone({ precision: 60 });
type Dec = InstanceType<typeof D>;

interface BotSourceTrade {
  order_id: string;
  symbol: string;
  side: string;
  order_time: string;
  price: string;
  size: string;
  fee: string;
}

interface BotAllocationRow {
  sell_order_id: string;
  buy_order_id: string | null;
  symbol: string;
  allocated_size: string;
  buy_price: string | null;
  sell_price: string;
  buy_fees_per_unit: string | null;
  sell_fees_per_unit: string;
  cost_basis_usd: string | null;
  proceeds_usd: string;
  net_proceeds_usd: string;
  pnl_usd: string | null;
  buy_time: string | null;
  sell_time: string;
  notes: string | null;
}

interface BotComputation {
  rows: BotAllocationRow[];
  unmatchedSells: string[];
  buys: number;
  sells: number;
  totalPnl: Dec;
}

const usd = (d: Dec) => d.toDecimalPlaces(8, Decimal.ROUND_HALF_UP).toFixed();
const perUnit = (d: Dec) => d.toDecimalPlaces(12, Decimal.ROUND_HALF_UP).toFixed();

/** The bot's FIFO: per symbol by (order_time, order_id), sells take the oldest lots first. */
function botFifo(trades: readonly BotSourceTrade[]): BotComputation {
  const out: BotComputation = { rows: [], unmatchedSells: [], buys: 0, sells: 0, totalPnl: new D(0) };
  const lots = new Map<string, { id: string; time: string; price: Dec; fpu: Dec; left: Dec }[]>();
  for (const t of trades) {
    const size = new D(t.size);
    const price = new D(t.price);
    const fee = new D(t.fee);
    const book = lots.get(t.symbol) ?? [];
    lots.set(t.symbol, book);
    if (t.side === 'buy') {
      out.buys++;
      book.push({ id: t.order_id, time: t.order_time, price, fpu: fee.div(size), left: size });
      continue;
    }
    out.sells++;
    const sellFpu = fee.div(size);
    let left = size;
    while (left.gt(0) && book.length > 0) {
      const lot = book[0]!;
      const a = D.min(left, lot.left);
      const cost = new D(usd(a.mul(lot.price.add(lot.fpu))));
      const proceeds = new D(usd(a.mul(price)));
      const net = new D(usd(proceeds.sub(a.mul(sellFpu))));
      const pnl = net.sub(cost);
      out.totalPnl = out.totalPnl.add(pnl);
      out.rows.push({
        sell_order_id: t.order_id,
        buy_order_id: lot.id,
        symbol: t.symbol,
        allocated_size: a.toFixed(),
        buy_price: lot.price.toFixed(),
        sell_price: price.toFixed(),
        buy_fees_per_unit: perUnit(lot.fpu),
        sell_fees_per_unit: perUnit(sellFpu),
        cost_basis_usd: cost.toFixed(),
        proceeds_usd: proceeds.toFixed(),
        net_proceeds_usd: net.toFixed(),
        pnl_usd: pnl.toFixed(),
        buy_time: lot.time,
        sell_time: t.order_time,
        notes: null,
      });
      lot.left = lot.left.sub(a);
      left = left.sub(a);
      if (lot.left.isZero()) book.shift();
    }
    if (left.gt(0)) {
      const proceeds = new D(usd(left.mul(price)));
      out.unmatchedSells.push(t.order_id);
      out.rows.push({
        sell_order_id: t.order_id,
        buy_order_id: null,
        symbol: t.symbol,
        allocated_size: left.toFixed(),
        buy_price: null,
        sell_price: price.toFixed(),
        buy_fees_per_unit: null,
        sell_fees_per_unit: perUnit(sellFpu),
        cost_basis_usd: null,
        proceeds_usd: proceeds.toFixed(),
        net_proceeds_usd: usd(proceeds.sub(left.mul(sellFpu))),
        pnl_usd: null,
        buy_time: null,
        sell_time: t.order_time,
        notes: 'unmatched: no open lot (bot fifo)',
      });
    }
  }
  return out;
}

/** The bot reads trade_records itself: filled order rows, per-fill rows left out. */
async function readBotTrades(client: pg.ClientBase, symbols: readonly string[] | null) {
  const { rows } = await client.query<BotSourceTrade>(
    `SELECT order_id, symbol, side, to_json(order_time)#>>'{}' AS order_time, price::text AS price,
            size::text AS size, coalesce(total_fees_usd, 0)::text AS fee
     FROM trade_records
     WHERE (status IS NULL OR status IN ('filled', 'done')) AND order_id NOT LIKE '%-FILL-%'
       AND ($1::varchar[] IS NULL OR symbol = ANY($1::varchar[]))
     ORDER BY symbol, order_time, order_id`,
    [symbols],
  );
  return rows;
}

async function insertBotAllocations(
  client: pg.ClientBase,
  rows: readonly BotAllocationRow[],
  batchId: string,
) {
  if (rows.length === 0) return;
  await client.query(
    `INSERT INTO fifo_allocations (sell_order_id, buy_order_id, symbol, allocated_size, buy_price, sell_price,
       buy_fees_per_unit, sell_fees_per_unit, cost_basis_usd, proceeds_usd, net_proceeds_usd, pnl_usd, buy_time,
       sell_time, allocation_version, allocation_batch_id, notes)
     SELECT r.sell_order_id, r.buy_order_id, r.symbol, r.allocated_size, r.buy_price, r.sell_price,
            r.buy_fees_per_unit, r.sell_fees_per_unit, r.cost_basis_usd, r.proceeds_usd, r.net_proceeds_usd,
            r.pnl_usd, r.buy_time, r.sell_time, $2, $3::uuid, r.notes
     FROM json_to_recordset($1::json) AS r(sell_order_id varchar, buy_order_id varchar, symbol varchar,
       allocated_size numeric, buy_price numeric, sell_price numeric, buy_fees_per_unit numeric,
       sell_fees_per_unit numeric, cost_basis_usd numeric, proceeds_usd numeric, net_proceeds_usd numeric,
       pnl_usd numeric, buy_time timestamptz, sell_time timestamptz, notes text)`,
    [JSON.stringify(rows), BOT_VERSION, batchId],
  );
}

async function queueUnmatched(client: pg.ClientBase, sells: readonly string[]) {
  for (const orderId of sells) {
    await client.query(
      `INSERT INTO manual_review_queue (order_id, issue_type, severity, description)
       VALUES ($1, 'unmatched_sell', 'medium', 'sell larger than the open lots (fifo v2)')
       ON CONFLICT (order_id, issue_type) DO UPDATE SET description = EXCLUDED.description, updated_at = now()`,
      [orderId],
    );
  }
}

export type BotRunEnd = 'completed' | 'partial' | 'failed';

export interface BotFifoOptions {
  /** How the run ends. 'partial': the last symbol fails and is left out. @default 'completed' */
  readonly end?: BotRunEnd;
  /** Log a 'running' row first (committed at once), and complete it at the end. @default false */
  readonly logRunningFirst?: boolean;
  /** The run's allocation_batch_id (the bot generates one per run). */
  readonly batchId: string;
}

/** What one run of the bot's script left. */
export interface BotRunWritten extends BotState {
  /** Its log row as it ended (null for the 5-minute `--since` mode, which logs nothing). */
  readonly log: string | null;
  readonly logId: string | null;
}

/**
 * One nightly run of the bot's script, `--version 2 --all-symbols --force`, in steps so that a
 * test can hold it open: `start` (logs 'running' when asked, committed at once), `write` (one
 * transaction: deletes version 2, rewrites it, queues unmatched sells; not committed), `finish`
 * (logs the run and commits; a failed run rolls back and logs 'failed').
 */
export class BotFifoScript {
  private client: pg.PoolClient | null = null;
  private computed: BotComputation | null = null;
  private symbols: string[] = [];
  private failedSymbol: string | null = null;
  private constructor(
    private readonly pool: pg.Pool,
    private readonly options: BotFifoOptions,
    private readonly started: Date,
    /** The committed 'running' row, canonical jsonb text, when one was logged. */
    readonly runningRow: { id: string; row: string } | null,
  ) {}

  static async start(pool: pg.Pool, options: BotFifoOptions): Promise<BotFifoScript> {
    const started = new Date();
    let running: { id: string; row: string } | null = null;
    if (options.logRunningFirst) {
      const { rows } = await pool.query<{ id: string; row: string }>(
        `INSERT INTO fifo_computation_log AS l
           (allocation_version, allocation_batch_id, computation_start, status, computation_mode, triggered_by)
         VALUES ($1, $2::uuid, $3::timestamptz, 'running', 'full', 'manual')
         RETURNING l.id::text AS id, to_jsonb(l)::text AS row`,
        [BOT_VERSION, options.batchId, started.toISOString()],
      );
      running = rows[0]!;
    }
    return new BotFifoScript(pool, options, started, running);
  }

  /** Opens the run's transaction and writes version 2 in it, uncommitted. */
  async write(): Promise<void> {
    const client = await this.pool.connect();
    this.client = client;
    await client.query('BEGIN');
    const trades = await readBotTrades(client, null);
    this.symbols = [...new Set(trades.map((t) => t.symbol))].sort();
    this.failedSymbol = this.options.end === 'partial' ? (this.symbols.at(-1) ?? null) : null;
    const kept = trades.filter((t) => t.symbol !== this.failedSymbol);
    this.computed = botFifo(kept);
    await client.query('DELETE FROM fifo_allocations WHERE allocation_version = $1', [BOT_VERSION]);
    await insertBotAllocations(client, this.computed.rows, this.options.batchId);
    await queueUnmatched(client, this.computed.unmatchedSells);
  }

  /** Logs the run and commits it (a failed run rolls back first); returns what it left. */
  async finish(): Promise<BotRunWritten> {
    if (!this.client) await this.write();
    const client = this.client!;
    const computed = this.computed!;
    const end = this.options.end ?? 'completed';
    try {
      if (end === 'failed') {
        await client.query('ROLLBACK');
        const log = await this.log(client, 'failed', computed);
        const state = await readBotState(client);
        return { ...state, ...log };
      }
      const log = await this.log(client, end, computed);
      const state = await readBotState(client);
      await client.query('COMMIT');
      return { ...state, ...log };
    } finally {
      client.release();
      this.client = null;
    }
  }

  /** Rolls back an open transaction without logging (the process was killed). */
  async abort(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = null;
    await client.query('ROLLBACK').catch(() => {});
    client.release();
  }

  private async log(client: pg.ClientBase, status: BotRunEnd, c: BotComputation) {
    const failed = status === 'failed';
    const processed = failed ? [] : this.symbols.filter((s) => s !== this.failedSymbol);
    const error = failed
      ? 'psycopg2.errors.QueryCanceled: canceling statement due to statement timeout'
      : status === 'partial'
        ? `${this.failedSymbol}: ZeroDivisionError: float division by zero`
        : null;
    const values = [
      new Date().toISOString(),
      Math.max(0, Date.now() - this.started.getTime()),
      status,
      failed ? 0 : c.buys,
      failed ? 0 : c.sells,
      failed ? 0 : c.rows.length,
      error,
      failed ? 'Traceback (most recent call last):\n  File "fifo_engine.py", line 412' : null,
      processed,
      failed ? null : c.totalPnl.toFixed(),
    ];
    const { rows } = this.runningRow
      ? await client.query<{ id: string; row: string }>(
          `UPDATE fifo_computation_log AS l SET computation_end = $2::timestamptz, computation_duration_ms = $3,
             status = $4, buys_processed = $5, sells_processed = $6, allocations_created = $7,
             error_message = $8, error_traceback = $9, symbols_processed = $10::varchar[],
             total_pnl_computed = $11::numeric
           WHERE id = $1 RETURNING l.id::text AS id, to_jsonb(l)::text AS row`,
          [this.runningRow.id, ...values],
        )
      : await client.query<{ id: string; row: string }>(
          `INSERT INTO fifo_computation_log AS l
             (allocation_version, allocation_batch_id, computation_start, computation_end, computation_duration_ms,
              status, buys_processed, sells_processed, allocations_created, error_message, error_traceback,
              symbols_processed, total_pnl_computed, computation_mode, triggered_by)
           VALUES ($1, $2::uuid, $3::timestamptz, $4::timestamptz, $5, $6, $7, $8, $9, $10, $11, $12::varchar[],
                   $13::numeric, 'full', 'manual')
           RETURNING l.id::text AS id, to_jsonb(l)::text AS row`,
          [BOT_VERSION, this.options.batchId, this.started.toISOString(), ...values],
        );
    return { log: rows[0]!.row, logId: rows[0]!.id };
  }
}

/** The nightly bot FIFO in one go. */
export async function runBotFifoFull(pool: pg.Pool, options: BotFifoOptions): Promise<BotRunWritten> {
  const script = await BotFifoScript.start(pool, options);
  return script.finish();
}

/**
 * The bot's 5-minute `--since` mode: deletes and recomputes version 2 for the symbols traded
 * since then (by order_time), in one transaction, without a log row.
 */
export async function runBotFifoSince(
  pool: pg.Pool,
  since: string,
  batchId: string,
): Promise<BotRunWritten & { symbols: string[] }> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ symbol: string }>(
      'SELECT DISTINCT symbol FROM trade_records WHERE order_time >= $1::timestamptz ORDER BY symbol',
      [since],
    );
    const symbols = rows.map((r) => r.symbol);
    const computed = botFifo(await readBotTrades(client, symbols));
    await client.query(
      'DELETE FROM fifo_allocations WHERE allocation_version = $1 AND symbol = ANY($2::varchar[])',
      [BOT_VERSION, symbols],
    );
    await insertBotAllocations(client, computed.rows, batchId);
    await queueUnmatched(client, computed.unmatchedSells);
    const state = await readBotState(client);
    await client.query('COMMIT');
    return { ...state, log: null, logId: null, symbols };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

// ---------------------------------------------------------------------------------------------
// The bot's daily report (cron, every 6 h): its queries over fifo_allocations of one version.
// ---------------------------------------------------------------------------------------------

export interface BotBreakdownRow {
  readonly key: string;
  readonly sells: number;
  /** Σ pnl_usd, numeric text. */
  readonly pnl: string;
}

export interface BotReport {
  /** Σ pnl_usd of the version's allocations with start <= sell_time < end, numeric text. */
  readonly realizedPnl: string;
  readonly sells: number;
  /** By the buy's trigger->>'trigger'. */
  readonly byStrategy: BotBreakdownRow[];
  /** By the buy's source. */
  readonly bySource: BotBreakdownRow[];
  /** The version's row of v_allocation_health, as text. */
  readonly health: {
    total_allocations: string;
    sells_matched: string;
    buys_used: string;
    unmatched_sells: string;
    total_pnl: string | null;
  } | null;
}

/** The bot's report for a version (its FIFO_ALLOCATION_VERSION, 2 by default) and a window. */
export async function botDailyReport(
  db: Queryable,
  options: { version: number; start: string; end: string },
): Promise<BotReport> {
  const params = [options.version, options.start, options.end];
  const { rows: total } = await db.query<{ pnl: string; sells: string }>(
    `SELECT COALESCE(SUM(pnl_usd), 0)::text AS pnl, COUNT(DISTINCT sell_order_id)::text AS sells
     FROM fifo_allocations
     WHERE allocation_version = $1 AND sell_time >= $2::timestamptz AND sell_time < $3::timestamptz`,
    params,
  );
  const breakdown = async (expression: string) => {
    const { rows } = await db.query<{ key: string; sells: string; pnl: string }>(
      `SELECT COALESCE(${expression}, 'unknown') AS key, COUNT(DISTINCT a.sell_order_id)::text AS sells,
              COALESCE(SUM(a.pnl_usd), 0)::text AS pnl
       FROM fifo_allocations a
       JOIN trade_records b ON b.order_id = a.buy_order_id
       WHERE a.allocation_version = $1 AND a.sell_time >= $2::timestamptz AND a.sell_time < $3::timestamptz
       GROUP BY 1 ORDER BY 1`,
      params,
    );
    return rows.map((r) => ({ key: r.key, sells: Number(r.sells), pnl: r.pnl }));
  };
  const { rows: health } = await db.query(
    `SELECT total_allocations::text, sells_matched::text, buys_used::text, unmatched_sells::text,
            total_pnl::text
     FROM v_allocation_health WHERE allocation_version = $1`,
    [options.version],
  );
  return {
    realizedPnl: total[0]!.pnl,
    sells: Number(total[0]!.sells),
    byStrategy: await breakdown(`b."trigger"->>'trigger'`),
    bySource: await breakdown('b.source'),
    health: (health[0] as BotReport['health']) ?? null,
  };
}
