// Unit tests of the FIFO engine, one describe per rule of docs/design.md §2.
import { describe, expect, it } from 'vitest';
import {
  allocationRow,
  computeFifo,
  type EngineOptions,
  formatQty,
  formatUsd,
  lotSummary,
  parseScaled,
  SymbolBook,
  TradeOrderError,
  UnmatchedSellError,
} from '../../shared/fifo/index.ts';
import {
  buy,
  byProcessingOrder,
  cloneLot,
  type RawRow,
  resultJson,
  sell,
  tradeOf,
  tradesOf,
} from './arbitraries.ts';

const T0 = '2024-01-01T00:00:00Z';
const T1 = '2024-01-01T00:00:01Z';
const T2 = '2024-01-01T00:00:02Z';
const T3 = '2024-01-01T00:00:03Z';

function run(rows: readonly RawRow[], options: EngineOptions = {}) {
  const result = computeFifo(tradesOf(rows), options);
  return { ...result, rows: result.allocations.map(allocationRow) };
}

/** [sell, buy, size] of every allocation: the lot selection without the amounts. */
function slicesOf(rows: readonly RawRow[], options: EngineOptions = {}) {
  return run(rows, options).rows.map((r) => [r.sell_order_id, r.buy_order_id, r.allocated_size]);
}

// Rule 1: trades are processed per symbol by (order_time, buy before sell, order_id by code point).
describe('rule 1: processing order and tie-break', () => {
  it('lets a sell consume a buy of the same timestamp that arrived after it', () => {
    // Prepare
    const rows = [sell('s1', T0, '1', '10'), buy('b1', T0, '1', '9')];

    // Act
    const slices = slicesOf(rows);

    // Assess
    expect(slices).toEqual([['s1', 'b1', '1']]);
  });

  it('queues buys of one timestamp by order_id', () => {
    // Prepare
    const rows = [buy('b2', T0, '1', '9'), buy('b10', T0, '1', '9'), sell('s1', T1, '1', '10')];

    // Act
    const slices = slicesOf(rows);

    // Assess
    expect(slices).toEqual([['s1', 'b10', '1']]);
  });

  it('applies sells of one timestamp by order_id', () => {
    // Prepare
    const rows = [
      buy('b1', T0, '1', '10'),
      buy('b2', T0, '1', '20'),
      sell('sB', T1, '1', '30'),
      sell('sA', T1, '1', '30'),
    ];

    // Act
    const slices = slicesOf(rows);

    // Assess
    expect(slices).toEqual([
      ['sA', 'b1', '1'],
      ['sB', 'b2', '1'],
    ]);
  });

  it('orders by time before order_id', () => {
    // Prepare
    const rows = [buy('a', T1, '1', '10'), buy('z', T0, '1', '20'), sell('s1', T2, '1', '30')];

    // Act
    const slices = slicesOf(rows);

    // Assess
    expect(slices).toEqual([['s1', 'z', '1']]);
  });

  it('never lets a sell consume a later buy', () => {
    // Prepare
    const rows = [buy('b1', T0, '1', '10'), sell('s1', T1, '2', '12'), buy('b2', T2, '5', '11')];

    // Act
    const result = run(rows);

    // Assess
    expect(result.rows.map((r) => [r.buy_order_id, r.allocated_size])).toEqual([
      ['b1', '1'],
      [null, '1'],
    ]);
    expect(result.lots.map(lotSummary).find((l) => l.buy_order_id === 'b2')?.remaining_size).toBe('5');
  });

  // order_ids compare by code point (PostgreSQL COLLATE "C"), where U+FFFD sorts before U+1F600
  // although its UTF-16 code unit is larger than the high surrogate of U+1F600.
  it('compares order_ids by code point, not by UTF-16 code unit', () => {
    // Prepare
    const emoji = '\u{1F600}';
    const replacement = '\uFFFD';
    const rows = [buy(emoji, T0, '1', '10'), buy(replacement, T0, '1', '20'), sell('s1', T1, '1', '30')];

    // Act
    const slices = slicesOf(rows);

    // Assess
    expect(emoji < replacement).toBe(true);
    expect(slices).toEqual([['s1', replacement, '1']]);
  });

  it('treats one instant written with different offsets as the same timestamp', () => {
    // Prepare
    const rows = [
      sell('s1', '2024-01-01T01:00:00+01:00', '1', '10'),
      buy('b1', '2024-01-01 00:00:00', '1', '9'),
    ];

    // Act
    const slices = slicesOf(rows);

    // Assess
    expect(slices).toEqual([['s1', 'b1', '1']]);
  });
});

// Rule 2: a lot keeps its cost as a total, so per-unit rounding can never drift.
describe('rule 2: lot cost kept as a total', () => {
  // 3 units at 0.333333333 cost 0.999999999 -> 1.00000000; a rounded unit price would give 0.99999999.
  it('keeps the rounded total, not a rounded unit price', () => {
    // Prepare
    const rows = [buy('b1', T0, '3', '0.333333333')];

    // Act
    const { lots } = run(rows);

    // Assess
    expect(lots.map(lotSummary)).toEqual([
      { buy_order_id: 'b1', symbol: 'BTC-USD', size: '3', remaining_size: '3', remaining_cost_usd: '1' },
    ]);
  });

  it('releases exactly the total whether the lot is sold at once or unit by unit', () => {
    // Prepare
    const once = [buy('b1', T0, '3', '0.333333333'), sell('s1', T1, '3', '1')];
    const thirds = [
      buy('b1', T0, '3', '0.333333333'),
      sell('s1', T1, '1', '1'),
      sell('s2', T2, '1', '1'),
      sell('s3', T3, '1', '1'),
    ];

    // Act
    const atOnce = run(once).rows.map((r) => r.cost_basis_usd);
    const inThirds = run(thirds).rows.map((r) => r.cost_basis_usd);

    // Assess
    expect(atOnce).toEqual(['1']);
    expect(inThirds).toEqual(['0.33333333', '0.33333334', '0.33333333']);
  });

  it('adds the buy fee to the lot cost', () => {
    // Prepare
    const rows = [buy('b1', T0, '2', '100', '1')];

    // Act
    const { lots } = run(rows);

    // Assess
    expect(formatUsd(lots[0]!.remainingCost)).toBe('201');
    expect(lots[0]!.buyFeesPerUnit).toBe(parseScaled('0.5', 18));
  });
});

// Rule 3: oldest lot first; buy fees follow the cost by units, sell fees are pro-rated by units.
describe('rule 3: pro-rating of buy and sell fees', () => {
  it('pro-rates the buy fee into the cost basis', () => {
    // Prepare
    const rows = [buy('b1', T0, '4', '10', '2'), sell('s1', T1, '1', '12')];

    // Act
    const result = run(rows);

    // Assess
    expect(result.rows[0]).toMatchObject({ cost_basis_usd: '10.5', net_proceeds_usd: '12', pnl_usd: '1.5' });
    expect(formatUsd(result.lots[0]!.remainingCost)).toBe('31.5');
  });

  // A sell that spans lots splits its fee by units; pnl is net proceeds less cost basis per slice.
  it('pro-rates the sell fee by units over the lots it spans', () => {
    // Prepare
    const rows = [buy('b1', T0, '1', '10'), buy('b2', T0, '3', '10'), sell('s1', T1, '4', '20', '1')];

    // Act
    const { rows: out } = run(rows);

    // Assess
    expect(
      out.map((r) => [r.buy_order_id, r.proceeds_usd, r.net_proceeds_usd, r.cost_basis_usd, r.pnl_usd]),
    ).toEqual([
      ['b1', '20', '19.75', '10', '9.75'],
      ['b2', '60', '59.25', '30', '29.25'],
    ]);
    expect(out[0]!.sell_fees_per_unit).toBe('0.25');
  });

  it('takes the oldest lot first and moves on only when it is empty', () => {
    // Prepare
    const rows = [
      buy('b1', T0, '1', '10'),
      buy('b2', T1, '2', '11'),
      buy('b3', T2, '3', '12'),
      sell('s1', T3, '2.5', '13'),
    ];

    // Act
    const slices = slicesOf(rows);

    // Assess
    expect(slices).toEqual([
      ['s1', 'b1', '1'],
      ['s1', 'b2', '1.5'],
    ]);
  });
});

// Rule 4: totals are conserved to the quantum because the last slice takes the remainder.
describe('rule 4: exact conservation', () => {
  // Cost 10 over 3 units cannot split evenly: 3.33333333 + 3.33333334 + 3.33333333 = 10.
  it('releases a lot cost of 10 sold 1, 1, 1 exactly', () => {
    // Prepare
    const rows = [
      buy('b1', T0, '3', '3', '1'),
      sell('s1', T1, '1', '4'),
      sell('s2', T2, '1', '4'),
      sell('s3', T3, '1', '4'),
    ];

    // Act
    const result = run(rows);

    // Assess
    expect(result.rows.map((r) => r.cost_basis_usd)).toEqual(['3.33333333', '3.33333334', '3.33333333']);
    expect(lotSummary(result.lots[0]!)).toMatchObject({ remaining_size: '0', remaining_cost_usd: '0' });
  });

  // A sell fee of 0.1 over 3 slices: the last slice takes the rest, so Σ net = 3 - 0.1 exactly.
  it('gives the last slice the rest of the sell fee', () => {
    // Prepare
    const rows = [
      buy('b1', T0, '1', '1'),
      buy('b2', T0, '1', '1'),
      buy('b3', T0, '1', '1'),
      sell('s1', T1, '3', '1', '0.1'),
    ];

    // Act
    const { rows: out } = run(rows);

    // Assess
    expect(out.map((r) => r.net_proceeds_usd)).toEqual(['0.96666667', '0.96666666', '0.96666667']);
  });

  // Gross 3 x 0.333333335 = 1.000000005 rounds (half even) to 1; each slice takes its units' share
  // of what is left: 1/3 -> 0.33333333, then 0.66666667/2 = 0.333333335 -> 0.33333334 (even), rest 0.33333333.
  it('gives the last slice the rest of the gross proceeds', () => {
    // Prepare
    const rows = [
      buy('b1', T0, '1', '1'),
      buy('b2', T0, '1', '1'),
      buy('b3', T0, '1', '1'),
      sell('s1', T1, '3', '0.333333335'),
    ];

    // Act
    const { rows: out } = run(rows);

    // Assess
    expect(out.map((r) => r.proceeds_usd)).toEqual(['0.33333333', '0.33333334', '0.33333333']);
  });

  // The unmatched row is the last slice of its sell, so it takes the remainders.
  it('gives the unmatched row the remainder of the proceeds', () => {
    // Prepare
    const rows = [buy('b1', T0, '1', '1'), sell('s1', T1, '3', '0.333333335')];

    // Act
    const { rows: out } = run(rows);

    // Assess
    expect(out.map((r) => [r.buy_order_id, r.proceeds_usd])).toEqual([
      ['b1', '0.33333333'],
      [null, '0.66666667'],
    ]);
  });
});

// Rule 5: USD amounts are rounded to 8 dp half to even; sizes and prices are kept as read.
describe('rule 5: USD rounding to 8 dp, half to even', () => {
  it.each([
    ['0.000000005', '0'],
    ['0.000000015', '0.00000002'],
    ['0.000000025', '0.00000002'],
    ['0.000000035', '0.00000004'],
    ['0.0000000051', '0.00000001'],
  ])('rounds a lot cost of %s to %s', (price, cost) => {
    // Prepare
    const rows = [buy('b1', T0, '1', price)];

    // Act
    const { lots } = run(rows);

    // Assess
    expect(formatUsd(lots[0]!.remainingCost)).toBe(cost);
  });

  // Negative amounts (fee above the notional) round half to even too, not away from or toward zero.
  it.each([
    ['0.00000002', '-0.00000002'],
    ['0.00000003', '-0.00000002'],
    ['0.00000004', '-0.00000004'],
  ])('rounds net proceeds 0.000000005 - %s to %s', (fee, net) => {
    // Prepare
    const rows = [buy('b1', T0, '1', '0.00000001'), sell('s1', T1, '1', '0.000000005', fee)];

    // Act
    const { rows: out } = run(rows);

    // Assess
    expect(out[0]).toMatchObject({ proceeds_usd: '0', net_proceeds_usd: net });
  });

  it('keeps sizes and prices exactly as read', () => {
    // Prepare
    const size = '0.000000000000000000000000000001';
    const price = '0.12345678901234567';
    const rows = [buy('b1', T0, size, price), sell('s1', T1, size, '98765.4321098765')];

    // Act
    const { rows: out } = run(rows);

    // Assess
    expect(out[0]).toMatchObject({ allocated_size: size, buy_price: price, sell_price: '98765.4321098765' });
  });
});

// Rule 6: the uncovered part of a sell is one visible row (or an error), unless it is dust.
describe('rule 6: unmatched sells and dust', () => {
  it('writes the uncovered rest as one row with null buy, cost basis and pnl', () => {
    // Prepare
    const rows = [buy('b1', T0, '1', '10'), buy('b2', T0, '1', '10'), sell('s1', T1, '5', '12', '0.5')];

    // Act
    const { rows: out } = run(rows);

    // Assess
    expect(out).toHaveLength(3);
    expect(out[2]).toEqual({
      sell_order_id: 's1',
      buy_order_id: null,
      symbol: 'BTC-USD',
      allocated_size: '3',
      buy_price: null,
      sell_price: '12',
      buy_fees_per_unit: null,
      sell_fees_per_unit: '0.1',
      cost_basis_usd: null,
      proceeds_usd: '36',
      net_proceeds_usd: '35.7',
      pnl_usd: null,
      buy_time: null,
      sell_time: '2024-01-01T00:00:01.000000Z',
      notes: 'unmatched: 3 of 5 sold had no open lot',
    });
  });

  it('records a sell without any open lot as one unmatched row', () => {
    // Prepare
    const rows = [sell('s1', T0, '2', '10')];

    // Act
    const { rows: out } = run(rows);

    // Assess
    expect(out.map((r) => [r.buy_order_id, r.allocated_size, r.net_proceeds_usd, r.pnl_usd])).toEqual([
      [null, '2', '20', null],
    ]);
  });

  it('throws UnmatchedSellError under onUnmatched error and leaves the lots untouched', () => {
    // Prepare
    const book = new SymbolBook('BTC-USD', [], { onUnmatched: 'error' });
    book.apply(tradeOf(buy('b1', T0, '1', '10', '1')), []);
    const out: never[] = [];

    // Act
    let caught: unknown;
    try {
      book.apply(tradeOf(sell('s1', T1, '3', '12')), out);
    } catch (error) {
      caught = error;
    }

    // Assess
    expect(caught).toBeInstanceOf(UnmatchedSellError);
    const error = caught as UnmatchedSellError;
    expect(error.sell.orderId).toBe('s1');
    expect(formatQty(error.uncovered)).toBe('2');
    expect(error.message).toContain('s1');
    expect(out).toEqual([]);
    expect(book.openLots().map(lotSummary)).toEqual([
      { buy_order_id: 'b1', symbol: 'BTC-USD', size: '1', remaining_size: '1', remaining_cost_usd: '11' },
    ]);
  });

  it('does not throw under onUnmatched error when the lots cover the sell', () => {
    // Prepare
    const rows = [buy('b1', T0, '1', '10'), sell('s1', T1, '1', '12')];

    // Act
    const { rows: out } = run(rows, { onUnmatched: 'error' });

    // Assess
    expect(out.map((r) => r.buy_order_id)).toEqual(['b1']);
  });

  // Dust strictly below the threshold is written off and counted; at or above it, it is a row.
  it.each([
    { threshold: '0.5', sold: '1.4', remainder: '0.4', writeOffGross: '4.8', writeOffNet: '4.71428571' },
    { threshold: '0.50000001', sold: '1.5', remainder: '0.5', writeOffGross: '6', writeOffNet: '5.9' },
    { threshold: '0.49999999', sold: '1.5', remainder: '0.5', writeOffGross: null, writeOffNet: null },
    { threshold: '0.5', sold: '1.5', remainder: '0.5', writeOffGross: null, writeOffNet: null },
  ])('with threshold $threshold an unmatched $remainder is written off: $writeOffNet', (c) => {
    // Prepare
    const rows = [buy('b1', T0, '1', '10'), sell('s1', T1, c.sold, '12', '0.3')];
    const dust = new Map([['BTC-USD', parseScaled(c.threshold)]]);

    // Act
    const result = run(rows, { dust });

    // Assess
    const unmatched = result.rows.filter((r) => r.buy_order_id === null).map((r) => r.allocated_size);
    if (c.writeOffNet !== null) {
      expect(unmatched).toEqual([]);
      expect(result.writeOffs).toEqual([
        {
          sellOrderId: 's1',
          symbol: 'BTC-USD',
          size: parseScaled(c.remainder),
          proceeds: parseScaled(c.writeOffGross!, 8),
          netProceeds: parseScaled(c.writeOffNet, 8),
        },
      ]);
    } else {
      expect(unmatched).toEqual([c.remainder]);
      expect(result.writeOffs).toEqual([]);
    }
  });

  it('applies the dust threshold to its own symbol only', () => {
    // Prepare
    const rows = [sell('s1', T0, '0.1', '10', '0', 'BTC-USD'), sell('s2', T0, '0.1', '10', '0', 'ETH-USD')];
    const dust = new Map([['BTC-USD', parseScaled('1')]]);

    // Act
    const result = run(rows, { dust });

    // Assess
    expect(result.rows.map((r) => r.sell_order_id)).toEqual(['s2']);
    expect(result.writeOffs.map((w) => w.sellOrderId)).toEqual(['s1']);
  });

  it('reports write-offs through takeWriteOffs once', () => {
    // Prepare
    const book = new SymbolBook('BTC-USD', [], { dust: new Map([['BTC-USD', parseScaled('1')]]) });
    book.apply(tradeOf(sell('s1', T0, '0.25', '10')), []);

    // Act
    const first = book.takeWriteOffs();
    const second = book.takeWriteOffs();

    // Assess
    expect(first.map((w) => [w.sellOrderId, formatQty(w.size), formatUsd(w.netProceeds)])).toEqual([
      ['s1', '0.25', '2.5'],
    ]);
    expect(second).toEqual([]);
  });

  it('writes dust off instead of throwing under onUnmatched error', () => {
    // Prepare
    const rows = [buy('b1', T0, '1', '10'), sell('s1', T1, '1.1', '12')];
    const below = { onUnmatched: 'error' as const, dust: new Map([['BTC-USD', parseScaled('0.2')]]) };
    const equal = { onUnmatched: 'error' as const, dust: new Map([['BTC-USD', parseScaled('0.1')]]) };

    // Act
    const result = run(rows, below);

    // Assess
    expect(result.writeOffs.map((w) => formatQty(w.size))).toEqual(['0.1']);
    expect(() => run(rows, equal)).toThrow(UnmatchedSellError);
  });
});

// Rule 7: the same trades always give byte-identical results, however they arrive or are split.
describe('rule 7: determinism and resumability', () => {
  const history = [
    buy('b2', T0, '1', '10', '0.1', 'ETH-USD'),
    buy('b1', T0, '2', '10.5', '0.3'),
    sell('s2', T1, '0.7', '11', '0.01'),
    buy('b3', T1, '0.5', '9.99'),
    sell('s1', T1, '1.2', '11.5', '0.02'),
    sell('s3', T1, '0.4', '12', '0', 'ETH-USD'),
    buy('b4', T2, '1.1', '3.33333333', '0.00000001', 'ETH-USD'),
    sell('s4', T3, '2', '12.25', '0.05'),
    sell('s5', T3, '1', '13', '0.05', 'ETH-USD'),
  ];

  it('gives byte-identical JSON for shuffled inputs', () => {
    // Prepare
    const shuffles = [
      [...history].reverse(),
      [...history.slice(4), ...history.slice(0, 4)],
      history.filter((_, i) => i % 2 === 0).concat(history.filter((_, i) => i % 2 === 1)),
    ];

    // Act
    const reference = computeFifo(tradesOf(history));
    const others = shuffles.map((rows) => computeFifo(tradesOf(rows)));

    // Assess
    const json = resultJson(reference.allocations, reference.lots, reference.writeOffs);
    for (const other of others) expect(resultJson(other.allocations, other.lots, other.writeOffs)).toBe(json);
  });

  it('resumes from open lots and position exactly as a full run', () => {
    // Prepare
    const trades = tradesOf([
      buy('b1', T0, '2', '10', '0.3'),
      buy('b2', T0, '1', '11'),
      sell('s1', T1, '1.5', '12', '0.1'),
      sell('s2', T2, '1', '13'),
      buy('b3', T2, '1', '9', '0.07'),
      sell('s3', T3, '1.25', '14', '0.03'),
    ]).sort(byProcessingOrder);
    const full = computeFifo(trades);
    const first = new SymbolBook('BTC-USD');
    const out: ReturnType<typeof computeFifo>['allocations'] = [];
    for (const t of trades.slice(0, 3)) first.apply(t, out);
    const closedEarly = first.takeClosedLots().map(cloneLot);

    // Act
    const resumed = new SymbolBook('BTC-USD', first.openLots().map(cloneLot), {}, first.position);
    for (const t of trades.slice(3)) resumed.apply(t, out);
    const lots = [...closedEarly, ...resumed.takeClosedLots(), ...resumed.openLots()];

    // Assess
    expect(out.map(allocationRow)).toEqual(full.allocations.map(allocationRow));
    expect(lots.map(lotSummary)).toEqual(full.lots.map(lotSummary));
    expect(out.map((a) => [a.sellOrderId, a.buyOrderId, formatQty(a.allocatedSize)])).toEqual([
      ['s1', 'b1', '1.5'],
      ['s2', 'b1', '0.5'],
      ['s2', 'b2', '0.5'],
      ['s3', 'b2', '0.5'],
      ['s3', 'b3', '0.75'],
    ]);
  });

  it('resumes from lots given in any order, ignoring closed ones', () => {
    // Prepare
    const trades = tradesOf([
      buy('b1', T0, '1', '10'),
      buy('b2', T1, '1', '11'),
      buy('b3', T1, '1', '12'),
      sell('s1', T2, '1', '13'),
    ]).sort(byProcessingOrder);
    const first = new SymbolBook('BTC-USD');
    for (const t of trades) first.apply(t, []);
    const stored = [...first.openLots(), ...first.takeClosedLots()].reverse().map(cloneLot);
    const out: ReturnType<typeof computeFifo>['allocations'] = [];

    // Act
    const resumed = new SymbolBook('BTC-USD', stored, {}, first.position);
    resumed.apply(tradeOf(sell('s2', T3, '1.5', '14')), out);

    // Assess
    expect(out.map((a) => [a.buyOrderId, formatQty(a.allocatedSize)])).toEqual([
      ['b2', '1'],
      ['b3', '0.5'],
    ]);
  });

  it('refuses a trade at or before the resumed position', () => {
    // Prepare
    const b1 = tradeOf(buy('b1', T0, '1', '10'));
    const s1 = tradeOf(sell('s1', T1, '0.5', '12'));
    const book = new SymbolBook('BTC-USD', [], {}, { time: s1.time, side: s1.side, orderId: s1.orderId });

    // Act
    const feed = (trade: typeof b1) => () => book.apply(trade, []);

    // Assess
    expect(feed(b1)).toThrow(TradeOrderError);
    expect(feed(s1)).toThrow(TradeOrderError);
  });

  // Feeding a book out of processing order is a caller bug and must fail loudly.
  it.each([
    ['an earlier time', buy('b2', T0, '1', '10')],
    ['the same trade again', buy('b1', T1, '1', '10')],
    ['a buy after a sell of the same timestamp', buy('a0', T2, '1', '10')],
    ['a sell with a smaller order_id at the same timestamp', sell('s0', T2, '1', '10')],
    ['a trade of another symbol', buy('x1', T3, '1', '10', '0', 'ETH-USD')],
  ])('throws TradeOrderError on %s', (_, late) => {
    // Prepare
    const book = new SymbolBook('BTC-USD');
    book.apply(tradeOf(buy('b1', T1, '1', '10')), []);
    book.apply(tradeOf(sell('s1', T2, '0.5', '10')), []);

    // Act
    const feed = () => book.apply(tradeOf(late), []);

    // Assess
    expect(feed).toThrow(TradeOrderError);
  });

  it('throws TradeOrderError when resumed with a lot of another symbol', () => {
    // Prepare
    const book = new SymbolBook('ETH-USD');
    book.apply(tradeOf(buy('e1', T0, '1', '10', '0', 'ETH-USD')), []);
    const lots = book.openLots().map(cloneLot);

    // Act
    const resume = () => new SymbolBook('BTC-USD', lots);

    // Assess
    expect(resume).toThrow(TradeOrderError);
  });
});

describe('scale within one symbol', () => {
  it('keeps every lot of a symbol with 200,000 buys', () => {
    // Why: results were gathered with push(...items), which overflows the call stack past
    // about 100k items; `fifo replay` of one busy symbol crashed.
    // Prepare
    const start = Date.parse(T0);
    const rows: RawRow[] = [];
    for (let i = 0; i < 200_000; i++)
      rows.push(buy(`b${i}`, new Date(start + i * 1000).toISOString(), '1', '100'));
    rows.push(sell('s', new Date(start + 300_000_000).toISOString(), '3', '110'));

    // Act
    const result = computeFifo(tradesOf(rows));

    // Assess
    expect(result.lots).toHaveLength(200_000);
    expect(result.allocations.map((a) => a.buyOrderId)).toEqual(['b0', 'b1', 'b2']);
    expect(result.lots.filter((lot) => lot.remaining === 0n)).toHaveLength(3);
  });
});
