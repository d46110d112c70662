/**
 * A hand-computed fixture for the report. The report's end is NOW (2024-03-11T00:00:00Z),
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
