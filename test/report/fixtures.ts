/**
 * Hand-computed fixtures for the report (FIXTURE, STRATEGY_FIXTURE, ROUNDTRIP_FIXTURE).
 *
 * FIXTURE. The report's end is NOW (2024-03-11T00:00:00Z),
 * the window the 24 h before it: start < sell_time <= end. Figures worked out by hand:
 *
 * AAA-USD
 *   b1  buy  2   @ 100    fee 1     2024-03-09T12:00Z  lot cost 201
 *   s1  sell 1   @ 110    fee 0.5   2024-03-10T00:00Z  = window start: excluded. cost 100.5, net 109.5, pnl +9
 *   s2  sell 0.5 @ 120    fee 0     2024-03-10T03:00Z  cost 50.25 (100.5 * 0.5 / 1), proceeds 60, pnl +9.75  WIN
 *   s3  sell 0.5 @ 100.5  fee 0     2024-03-10T04:30Z  cost 50.25 (the rest), proceeds 50.25, pnl 0   BREAKEVEN
 *   b2  buy  1   @ 200    fee 2     2024-03-10T05:00Z  lot cost 202 (a buy fee in the window)
 *   s4  sell 1   @ 190    fee 1     2024-03-11T00:00Z  = window end: included. net 189, pnl -13   LOSS
 * BBB-USD
 *   s5  sell 3   @ 10     fee 0.3   2024-03-10T10:00Z  no lot: wholly unmatched, proceeds 30, net 29.7
 *   b3  buy  1   @ 10     fee 0     2024-03-10T11:00Z  lot cost 10
 *   s6  sell 2   @ 12     fee 0.24  2024-03-10T12:00Z  1 matched: net 11.88, pnl +1.88; 1 unmatched: proceeds 12
 * CCC-USD (nothing in the window; an open position)
 *   c1  buy  3   @ 50     fee 1.5   2024-03-01T00:00Z  lot cost 151.5
 *   c3  sell 1   @ 55     fee 0     2024-03-02T00:00Z  cost 50.5, pnl +4.5
 *   c2  buy  1   @ 60     fee 0     2024-03-05T00:00Z  lot cost 60
 *   open: c1 2 units cost 101 + c2 1 unit cost 60 = 3 units, 161, average 53.666..., oldest 10 days
 *
 * Window: sells s2 s3 s4 s5 s6 = 5; realized 9.75 + 0 - 13 + 1.88 = -1.37; 1 win, 1 loss,
 * 1 breakeven, 2 unmatched (s5, s6: not results); win rate 1 / 2; average win 9.75, loss -13;
 * profit factor 9.75 / 13 = 0.75; fees: buys 2 (b2) + sells 1 + 0.3 + 0.24 = 3.54.
 * All time (<= NOW): 9 + 9.75 + 0 - 13 + 1.88 + 4.5 = 12.13.
 */
import type pg from 'pg';
import type { SampleTrade } from '../../shared/sample/generator.ts';
import { insertTrades } from '../../shared/sample/load.ts';

export const NOW = new Date('2024-03-11T00:00:00Z');

const t = (
  order_id: string,
  symbol: string,
  side: 'buy' | 'sell',
  order_time: string,
  size: string,
  price: string,
  fee: string,
): SampleTrade => ({ order_id, symbol, side, order_time, size, price, fee });

export const FIXTURE: SampleTrade[] = [
  t('b1', 'AAA-USD', 'buy', '2024-03-09T12:00:00Z', '2', '100', '1'),
  t('s1', 'AAA-USD', 'sell', '2024-03-10T00:00:00Z', '1', '110', '0.5'),
  t('s2', 'AAA-USD', 'sell', '2024-03-10T03:00:00Z', '0.5', '120', '0'),
  t('s3', 'AAA-USD', 'sell', '2024-03-10T04:30:00Z', '0.5', '100.5', '0'),
  t('b2', 'AAA-USD', 'buy', '2024-03-10T05:00:00Z', '1', '200', '2'),
  t('s4', 'AAA-USD', 'sell', '2024-03-11T00:00:00Z', '1', '190', '1'),
  t('s5', 'BBB-USD', 'sell', '2024-03-10T10:00:00Z', '3', '10', '0.3'),
  t('b3', 'BBB-USD', 'buy', '2024-03-10T11:00:00Z', '1', '10', '0'),
  t('s6', 'BBB-USD', 'sell', '2024-03-10T12:00:00Z', '2', '12', '0.24'),
  t('c1', 'CCC-USD', 'buy', '2024-03-01T00:00:00Z', '3', '50', '1.5'),
  t('c3', 'CCC-USD', 'sell', '2024-03-02T00:00:00Z', '1', '55', '0'),
  t('c2', 'CCC-USD', 'buy', '2024-03-05T00:00:00Z', '1', '60', '0'),
];

/** An allocation row as the CSV attachment writes it, the columns worked out by hand above. */
export interface CsvAllocation {
  readonly sell_order_id: string;
  readonly buy_order_id: string;
  readonly allocated_size: string;
  readonly cost_basis_usd: string;
  readonly proceeds_usd: string;
  readonly net_proceeds_usd: string;
  readonly pnl_usd: string;
  readonly notes: string;
}

const row = (
  sell_order_id: string,
  buy_order_id: string,
  allocated_size: string,
  cost_basis_usd: string,
  proceeds_usd: string,
  net_proceeds_usd: string,
  pnl_usd: string,
  notes = '',
): CsvAllocation => ({
  sell_order_id,
  buy_order_id,
  allocated_size,
  cost_basis_usd,
  proceeds_usd,
  net_proceeds_usd,
  pnl_usd,
  notes,
});

/**
 * FIXTURE's allocation rows in the window ending at NOW, by sell time, from the figures above:
 * a row per lot a sell took from, and a row without a buy for what no lot covered.
 */
export const FIXTURE_WINDOW_ALLOCATIONS: readonly CsvAllocation[] = [
  row('s2', 'b1', '0.5', '50.25', '60', '60', '9.75'),
  row('s3', 'b1', '0.5', '50.25', '50.25', '50.25', '0'),
  row('s5', '', '3', '', '30', '29.7', '', 'unmatched: 3 of 3 sold had no open lot'),
  row('s6', 'b3', '1', '10', '12', '11.88', '1.88'),
  row('s6', '', '1', '', '12', '11.88', '', 'unmatched: 1 of 2 sold had no open lot'),
  row('s4', 'b2', '1', '202', '190', '189', '-13'),
];

/** The CSV allocation rows' columns that FIXTURE_WINDOW_ALLOCATIONS states. */
export const csvAllocations = (rows: readonly Record<string, string>[]): CsvAllocation[] =>
  rows
    .filter((r) => r.section === 'allocation')
    .map((r) =>
      row(
        r.sell_order_id!,
        r.buy_order_id!,
        r.allocated_size!,
        r.cost_basis_usd!,
        r.proceeds_usd!,
        r.net_proceeds_usd!,
        r.pnl_usd!,
        r.notes,
      ),
    );

/** Empties everything a test may have written, so each test starts from a bare schema. */
export async function resetTables(db: pg.Pool): Promise<void> {
  await db.query(
    `TRUNCATE trade_records, fifo_allocations, fifo_lots, fifo_symbol_progress, fifo_versions,
              fifo_computation_log, fifo_rejected_trades, fifo_trade_changes`,
  );
}

export async function loadFixture(db: pg.Pool, trades: readonly SampleTrade[] = FIXTURE): Promise<void> {
  await insertTrades(db, trades);
}

const s = (
  order_id: string,
  symbol: string,
  side: 'buy' | 'sell',
  order_time: string,
  size: string,
  price: string,
  fee: string,
  trigger: string | null,
  source: string | null,
): SampleTrade => ({ order_id, symbol, side, order_time, size, price, fee, trigger, source });

/**
 * Strategies, sources and capital, all on 2024-03-10 (inside the window that ends at NOW),
 * worked out by hand:
 *
 *   x-b1  buy  X 1   @ 100  roc_momo  webhook    lot cost 100
 *   x-b2  buy  X 1   @ 110  breakout  websocket  lot cost 110
 *   x-s1  sell X 1.5 @ 120  tp        webhook    x-b1 1 unit +20, x-b2 0.5 unit +5 (cost 55): +25 WIN
 *   x-s2  sell X 0.5 @ 90   sl        passivemm  x-b2 0.5 unit, cost 55, proceeds 45: -10 LOSS
 *   y-b1  buy  Y 2   @ 10   {}        NULL       lot cost 20
 *   y-s1  sell Y 2   @ 10   roc_exit  webhook    0 BREAKEVEN
 *   z-s1  sell Z 1   @ 5    tp        manual     no lot: unmatched, net proceeds 5
 *   w-b1  buy  W 10  @ 10, fee 1, dca, webhook   open: 10 units, cost 101
 *
 * Realized 25 - 10 + 0 = 15 over 4 sells (1 win, 1 loss, 1 breakeven, 1 unmatched);
 * expectancy (25 - 10) / 3 = 5.
 * Entry: roc_momo +20 (1 win); breakout +5 - 10 = -5 (1 win, 1 loss: x-s1 split between two
 * strategies); (no trigger) 0 (1 breakeven); unmatched 0 (1). Sum 15.
 * Exit: tp +25 (1 win, 1 unmatched); sl -10 (1 loss); roc_exit 0 (1 breakeven). Sum 15.
 * Sources (buys of lots in the window / sells / PnL of sells / entry PnL):
 *   webhook 2 / 2 / +25 / +20; manual 0 / 1 / 0 / 0; websocket 1 / 0 / 0 / -5;
 *   passivemm 0 / 1 / -10 / 0; (no source) 1 / 0 / 0 / 0.
 * Equity curve from 1,300: 1,325 (x-s1), 1,315 (x-s2), 1,315, 1,315: max drawdown 10 USD,
 * 10 / 1,325 = 0.75471698%. Cash = 1,300 + 15 + 5 (z-s1) - 101 = 1,219; W at its last fill
 * 10 x 10 = 100 (unrealized -1); equity 1,319; invested 100 / 1,319 = 7.581501%.
 */
export const STRATEGY_FIXTURE: SampleTrade[] = [
  s('x-b1', 'X-USD', 'buy', '2024-03-10T01:00:00Z', '1', '100', '0', 'roc_momo', 'webhook'),
  s('x-b2', 'X-USD', 'buy', '2024-03-10T02:00:00Z', '1', '110', '0', 'breakout', 'websocket'),
  s('x-s1', 'X-USD', 'sell', '2024-03-10T03:00:00Z', '1.5', '120', '0', 'tp', 'webhook'),
  s('x-s2', 'X-USD', 'sell', '2024-03-10T04:00:00Z', '0.5', '90', '0', 'sl', 'passivemm'),
  s('y-b1', 'Y-USD', 'buy', '2024-03-10T05:00:00Z', '2', '10', '0', null, null),
  s('y-s1', 'Y-USD', 'sell', '2024-03-10T06:00:00Z', '2', '10', '0', 'roc_exit', 'webhook'),
  s('z-s1', 'Z-USD', 'sell', '2024-03-10T07:00:00Z', '1', '5', '0', 'tp', 'manual'),
  s('w-b1', 'W-USD', 'buy', '2024-03-10T08:00:00Z', '10', '10', '1', 'dca', 'webhook'),
];

/**
 * Near-instant roundtrips, by hand (threshold 60 s):
 *   v-b1 buy V 1 @ 50 fee 0.1 08:00:00, v-s1 sell @ 50.5 fee 0.1 08:00:30: 30 s, cost 50.1,
 *     net 50.4, PnL +0.3, fees 0.1 + 0.1 = 0.2
 *   v-b2 buy V 1 @ 50 09:00:00, v-s2 sell @ 49 09:01:00: exactly 60 s, PnL -1, fees 0
 *   v-b3 buy V 1 @ 50 10:00:00, v-s3 sell @ 51 10:01:01: 61 s, not a roundtrip
 *   u-b1 buy U 2 @ 10 fee 0.02 11:00:00, u-s1 sell @ 10.1 fee 0.02 11:00:05: 5 s, cost 20.02,
 *     net 20.18, PnL +0.16, fees 0.04
 * V: 2 slices, PnL -0.7, fees 0.2; U: 1 slice, +0.16, 0.04; all: 3 slices, size 4, -0.54, 0.24.
 */
export const ROUNDTRIP_FIXTURE: SampleTrade[] = [
  s('v-b1', 'V-USD', 'buy', '2024-03-10T08:00:00Z', '1', '50', '0.1', 'passivemm', 'passivemm'),
  s('v-s1', 'V-USD', 'sell', '2024-03-10T08:00:30Z', '1', '50.5', '0.1', 'passivemm', 'passivemm'),
  s('v-b2', 'V-USD', 'buy', '2024-03-10T09:00:00Z', '1', '50', '0', 'passivemm', 'passivemm'),
  s('v-s2', 'V-USD', 'sell', '2024-03-10T09:01:00Z', '1', '49', '0', 'passivemm', 'passivemm'),
  s('v-b3', 'V-USD', 'buy', '2024-03-10T10:00:00Z', '1', '50', '0', 'roc_momo', 'webhook'),
  s('v-s3', 'V-USD', 'sell', '2024-03-10T10:01:01Z', '1', '51', '0', 'tp', 'webhook'),
  s('u-b1', 'U-USD', 'buy', '2024-03-10T11:00:00Z', '2', '10', '0.02', 'passivemm', 'passivemm'),
  s('u-s1', 'U-USD', 'sell', '2024-03-10T11:00:05Z', '2', '10.1', '0.02', 'passivemm', 'passivemm'),
];

/**
 * The bot's cash_transactions for STRATEGY_FIXTURE: deposits 1,000 (normalized_type) and 500
 * (transaction_type only), a withdrawal of 200, a buy (another type, left out), and a deposit
 * after the report's end (left out): starting equity 1,300.
 */
export async function loadCashTransactions(db: pg.Pool): Promise<void> {
  await db.query(
    `INSERT INTO cash_transactions (id, transaction_id, transaction_date, transaction_type, normalized_type, asset,
                                    amount_usd)
     VALUES (1, 'c1', '2024-03-01T00:00:00Z', 'Deposit', 'deposit', 'USD', 1000),
            (2, 'c2', '2024-03-02T00:00:00Z', 'Deposit', NULL, 'USD', 500),
            (3, 'c3', '2024-03-05T00:00:00Z', 'Withdrawal', 'withdrawal', 'USD', 200),
            (4, 'c4', '2024-03-06T00:00:00Z', 'Advanced Trade Buy', 'buy', 'USD', 50),
            (5, 'c5', '2024-03-12T00:00:00Z', 'Deposit', 'deposit', 'USD', 999)`,
  );
}
