/**
 * The daily report's optional inputs for a sample, as the bot's database has them: a price
 * table (symbol, price, as_of) that REPORT_PRICE_TABLE names, and cash_transactions (the bot's
 * exact columns) with the deposits that fund the trades and one withdrawal. Marks are the last
 * fill ±0.5%, a few minutes before the end; one symbol's mark is three hours old (stale) and
 * the last symbol has none, so the report shows both its fallback and its flag.
 *
 * Every row written here is tagged (source 'sample') and replaced on the next run; tables that
 * exist are used as they are. Exact arithmetic only (decimal.js with room for every digit).
 */
import { Decimal } from 'decimal.js';
import type pg from 'pg';
import type { SampleTrade } from './generator.ts';
import { SAMPLE_MARKER } from './load.ts';

const Exact = Decimal.clone({ precision: 200 });

export const SAMPLE_PRICE_TABLE = 'report_prices';

export interface SampleReportInputs {
  readonly priceTable: string;
  readonly deposits: string;
  readonly withdrawal: string;
  readonly marked: string[];
  readonly stale: string[];
  readonly unmarked: string[];
}

/**
 * The cash the trades needed at their low point (buys cost size × price + fee, sells bring
 * size × price - fee), rounded up to 10,000 USD and doubled: a deposit that keeps cash positive.
 */
export function fundingFor(trades: readonly SampleTrade[]): string {
  let cash = new Exact(0);
  let low = new Exact(0);
  for (const t of trades) {
    const notional = new Exact(t.size).times(t.price);
    cash = t.side === 'buy' ? cash.minus(notional).minus(t.fee) : cash.plus(notional).minus(t.fee);
    if (cash.lt(low)) low = cash;
  }
  return low.neg().div(10_000).ceil().times(20_000).plus(10_000).toFixed();
}

export async function loadSampleReportInputs(
  db: pg.Pool | pg.ClientBase,
  trades: readonly SampleTrade[],
  end: Date,
): Promise<SampleReportInputs> {
  const last = new Map<string, SampleTrade>();
  for (const t of trades) if (Date.parse(t.order_time) <= end.getTime()) last.set(t.symbol, t);
  const symbols = [...last.keys()].sort();
  const unmarked = symbols.length > 1 ? [symbols.at(-1)!] : [];
  const stale = symbols.length > 2 ? [symbols[1]!] : [];
  const marked = symbols.filter((s) => !unmarked.includes(s));

  await db.query(
    `CREATE TABLE IF NOT EXISTS ${SAMPLE_PRICE_TABLE} (
       symbol varchar NOT NULL, price numeric NOT NULL, as_of timestamptz NOT NULL, source varchar)`,
  );
  await db.query(`DELETE FROM ${SAMPLE_PRICE_TABLE} WHERE source = $1`, [SAMPLE_MARKER]);
  const rows = marked.map((symbol, i) => {
    const fill = last.get(symbol)!;
    // ±0.5% from the last fill, exact to 8 decimals.
    const move = new Exact(i % 2 === 0 ? '1.005' : '0.995');
    const minutesBefore = stale.includes(symbol) ? 180 : 5;
    return {
      symbol,
      price: new Exact(fill.price).times(move).toDecimalPlaces(8, Decimal.ROUND_HALF_EVEN).toFixed(),
      asOf: new Date(end.getTime() - minutesBefore * 60_000).toISOString(),
    };
  });
  if (rows.length > 0) {
    await db.query(
      `INSERT INTO ${SAMPLE_PRICE_TABLE} (symbol, price, as_of, source)
       SELECT symbol, price::numeric, as_of::timestamptz, $4 FROM unnest($1::text[], $2::text[], $3::text[])
         AS u(symbol, price, as_of)`,
      [rows.map((r) => r.symbol), rows.map((r) => r.price), rows.map((r) => r.asOf), SAMPLE_MARKER],
    );
  }

  // The bot's exact DDL (bot-schema.sql), when the database has no such table yet.
  await db.query(
    `CREATE TABLE IF NOT EXISTS cash_transactions (
       id int PRIMARY KEY,
       transaction_id varchar(50) NOT NULL UNIQUE,
       transaction_date timestamptz,
       transaction_type varchar(30),
       normalized_type varchar(20),
       asset varchar(10) CHECK (asset = 'USD'),
       quantity decimal(20, 8),
       amount_usd decimal(20, 8) CHECK (amount_usd >= 0),
       subtotal decimal(20, 8),
       total decimal(20, 8),
       fees decimal(20, 8),
       notes text,
       source varchar(50),
       imported_at timestamptz DEFAULT now())`,
  );
  await db.query('DELETE FROM cash_transactions WHERE source = $1', [SAMPLE_MARKER]);
  const deposits = fundingFor(trades);
  const withdrawal = new Exact(deposits).div(20).toDecimalPlaces(0, Decimal.ROUND_DOWN).toFixed();
  const first = trades[0] ? Date.parse(trades[0].order_time) : end.getTime();
  const half = new Exact(deposits).div(2).toFixed();
  await db.query(
    `INSERT INTO cash_transactions (id, transaction_id, transaction_date, transaction_type, normalized_type, asset,
                                    quantity, amount_usd, subtotal, total, fees, notes, source)
     SELECT (SELECT coalesce(max(id), 0) FROM cash_transactions) + n, 'sample-' || n, d::timestamptz, tt, nt, 'USD',
            amount::numeric, amount::numeric, amount::numeric, amount::numeric, 0, 'demo sample', $6
     FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(n, d, tt, nt, amount)`,
    [
      [1, 2, 3],
      [
        new Date(first - 2 * 86_400_000).toISOString(),
        new Date(first - 86_400_000).toISOString(),
        new Date(first + (end.getTime() - first) / 2).toISOString(),
      ],
      ['Deposit', 'Deposit', 'Withdrawal'],
      ['deposit', 'deposit', 'withdrawal'],
      [half, half, withdrawal],
      SAMPLE_MARKER,
    ],
  );
  return { priceTable: SAMPLE_PRICE_TABLE, deposits, withdrawal, marked, stale, unmarked };
}
