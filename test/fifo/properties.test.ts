// Property tests: docs/design.md §2 rules 3, 4, 6 and 7 must hold for any history, not just the examples.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Allocation,
  computeFifo,
  type DustWriteOff,
  type EngineOptions,
  type Lot,
  SymbolBook,
  type Trade,
  type TradeKey,
  UnmatchedSellError,
} from '../../shared/fifo/index.ts';
import {
  byCodePoint,
  byProcessingOrder,
  cloneLot,
  dustArb,
  expectedGross,
  expectedLotCost,
  expectedNet,
  historyArb,
  qtyDecimal,
  resultJson,
  round8,
  tradesOf,
  usdDecimal,
} from './arbitraries.ts';

const RUNS = { numRuns: 300 };

function sumOf(values: readonly bigint[]): bigint {
  return values.reduce((a, b) => a + b, 0n);
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** Every trade of each symbol in processing order, computed without the engine's comparator. */
function bySymbolInOrder(trades: readonly Trade[]): Map<string, Trade[]> {
  const groups = groupBy(trades, (t) => t.symbol);
  for (const group of groups.values()) group.sort(byProcessingOrder);
  return groups;
}

// Rule 4 (and 3, 6): money and units are conserved exactly, to the quantum, for every buy and sell.
describe('conservation', () => {
  it('releases exactly each buy cost: Σ slice cost basis + remaining cost = round8(size*price + fee)', () => {
    fc.assert(
      fc.property(historyArb, dustArb, (rows, dust) => {
        // Prepare
        const trades = tradesOf(rows);

        // Act
        const { allocations, lots } = computeFifo(trades, { dust });

        // Assess
        const slices = groupBy(
          allocations.filter((a) => a.buyOrderId !== null),
          (a) => a.buyOrderId!,
        );
        const lotOf = new Map(lots.map((l) => [l.buyOrderId, l]));
        const buys = trades.filter((t) => t.side === 'buy');
        expect(lots).toHaveLength(buys.length);
        for (const b of buys) {
          const lot = lotOf.get(b.orderId)!;
          const taken = slices.get(b.orderId) ?? [];
          expect(sumOf(taken.map((a) => a.costBasis!)) + lot.remainingCost).toBe(expectedLotCost(b));
          expect(sumOf(taken.map((a) => a.allocatedSize)) + lot.remaining).toBe(b.size);
          expect(lot.remaining >= 0n && lot.remainingCost >= 0n).toBe(true);
          if (lot.remaining === 0n) expect(lot.remainingCost).toBe(0n);
        }
      }),
      RUNS,
    );
  });

  it('accounts for each sell exactly: Σ net = round8(size*price - fee), Σ size = size, Σ gross = round8(size*price)', () => {
    fc.assert(
      fc.property(historyArb, dustArb, (rows, dust) => {
        // Prepare
        const trades = tradesOf(rows);

        // Act
        const { allocations, writeOffs } = computeFifo(trades, { dust });

        // Assess
        const slices = groupBy(allocations, (a) => a.sellOrderId);
        const written = groupBy(writeOffs, (w) => w.sellOrderId);
        for (const s of trades.filter((t) => t.side === 'sell')) {
          const rowsOfSell = slices.get(s.orderId) ?? [];
          const off = written.get(s.orderId) ?? [];
          expect(off.length).toBeLessThanOrEqual(1);
          const net = sumOf(rowsOfSell.map((a) => a.netProceeds)) + sumOf(off.map((w) => w.netProceeds));
          expect(net).toBe(expectedNet(s));
          const size = sumOf(rowsOfSell.map((a) => a.allocatedSize));
          if (off.length === 0) {
            expect(size).toBe(s.size);
            expect(sumOf(rowsOfSell.map((a) => a.proceeds))).toBe(expectedGross(s));
          } else {
            expect(size + off[0]!.size).toBe(s.size);
            expect(off[0]!.size < (dust.get(s.symbol) ?? 0n)).toBe(true);
          }
        }
      }),
      RUNS,
    );
  });

  it('makes every row consistent: matched pnl = net - cost; at most one unmatched row per sell, last', () => {
    fc.assert(
      fc.property(historyArb, dustArb, (rows, dust) => {
        // Prepare
        const trades = tradesOf(rows);

        // Act
        const { allocations } = computeFifo(trades, { dust });

        // Assess
        for (const a of allocations) {
          expect(a.allocatedSize > 0n).toBe(true);
          if (a.buyOrderId === null) {
            expect([a.costBasis, a.pnl, a.buyPrice, a.buyTime, a.buyFeesPerUnit]).toEqual([
              null,
              null,
              null,
              null,
              null,
            ]);
            expect(a.notes).toMatch(/unmatched/);
            expect(a.allocatedSize >= (dust.get(a.symbol) ?? 0n)).toBe(true);
          } else {
            expect(a.pnl).toBe(a.netProceeds - a.costBasis!);
            expect(a.notes).toBeNull();
          }
        }
        for (const group of groupBy(allocations, (a) => a.sellOrderId).values()) {
          const nulls = group.filter((a) => a.buyOrderId === null);
          expect(nulls.length).toBeLessThanOrEqual(1);
          if (nulls.length === 1) expect(group.at(-1)!.buyOrderId).toBeNull();
        }
      }),
      RUNS,
    );
  });

  it('throws under onUnmatched error exactly for the first sell row mode leaves unmatched', () => {
    fc.assert(
      fc.property(historyArb, dustArb, (rows, dust) => {
        // Prepare
        const trades = tradesOf(rows);
        const firstUnmatched = computeFifo(trades, { dust }).allocations.find((a) => a.buyOrderId === null);

        // Act
        let caught: unknown = null;
        try {
          computeFifo(trades, { dust, onUnmatched: 'error' });
        } catch (error) {
          caught = error;
        }

        // Assess
        if (firstUnmatched === undefined) {
          expect(caught).toBeNull();
        } else {
          expect(caught).toBeInstanceOf(UnmatchedSellError);
          expect((caught as UnmatchedSellError).sell.orderId).toBe(firstUnmatched.sellOrderId);
          expect((caught as UnmatchedSellError).uncovered).toBe(firstUnmatched.allocatedSize);
        }
      }),
      RUNS,
    );
  });
});

// Rules 1 and 3: replaying the allocations, no sell ever takes from a lot while an older lot is open.
describe('FIFO order', () => {
  // Checks every slice against a model queue of the lots that exist when the sell happens.
  it('takes only from the oldest open lot that exists at the time of the sell', () => {
    fc.assert(
      fc.property(historyArb, dustArb, (rows, dust) => {
        // Prepare
        const trades = tradesOf(rows);

        // Act
        const { allocations, writeOffs } = computeFifo(trades, { dust });

        // Assess
        const slicesOf = groupBy(allocations, (a) => a.sellOrderId);
        const writtenOff = new Set(writeOffs.map((w) => w.sellOrderId));
        for (const ordered of bySymbolInOrder(trades).values()) {
          const queue: { id: string; remaining: bigint }[] = [];
          for (const t of ordered) {
            if (t.side === 'buy') {
              queue.push({ id: t.orderId, remaining: t.size });
              continue;
            }
            const slices = slicesOf.get(t.orderId) ?? [];
            for (const slice of slices) {
              const open = queue.find((l) => l.remaining > 0n);
              if (slice.buyOrderId === null) {
                expect(open).toBeUndefined();
                continue;
              }
              expect(slice.buyOrderId).toBe(open?.id);
              expect(slice.allocatedSize <= open!.remaining).toBe(true);
              open!.remaining -= slice.allocatedSize;
            }
            const uncovered = slices.at(-1)?.buyOrderId === null || writtenOff.has(t.orderId);
            if (uncovered) expect(queue.every((l) => l.remaining === 0n)).toBe(true);
          }
        }
      }),
      RUNS,
    );
  });
});

// Rule 3: each slice's amounts follow from the lot's and the sell's state at that moment.
describe('slice amounts', () => {
  // A model of every lot's remaining cost checks each slice's cost basis, proceeds and fee share.
  it('pro-rates cost by the lot remaining, proceeds and fee by the units left; the last slice takes the rest', () => {
    fc.assert(
      fc.property(historyArb, dustArb, (rows, dust) => {
        // Prepare
        const trades = tradesOf(rows);

        // Act
        const { allocations, writeOffs } = computeFifo(trades, { dust });

        // Assess
        const slicesOf = groupBy(allocations, (a) => a.sellOrderId);
        const writtenOff = new Map(writeOffs.map((w) => [w.sellOrderId, w]));
        const lots = new Map<string, { remaining: bigint; cost: bigint }>();
        for (const ordered of bySymbolInOrder(trades).values()) {
          for (const t of ordered) {
            if (t.side === 'buy') {
              lots.set(t.orderId, { remaining: t.size, cost: expectedLotCost(t) });
              continue;
            }
            const slices = slicesOf.get(t.orderId) ?? [];
            const off = writtenOff.get(t.orderId);
            const feeTotal = expectedGross(t) - expectedNet(t);
            let grossLeft = expectedGross(t);
            let feeLeft = feeTotal;
            let unitsLeft = t.size;
            slices.forEach((a, i) => {
              const last = i === slices.length - 1 && off === undefined;
              const size = qtyDecimal(a.allocatedSize);
              const share = (left: bigint) => round8(usdDecimal(left).times(size).div(qtyDecimal(unitsLeft)));
              const gross = last ? grossLeft : share(grossLeft);
              const fee = last ? feeLeft : share(feeLeft);
              expect([a.proceeds, a.netProceeds]).toEqual([gross, gross - fee]);
              // Shares of what is left never turn negative.
              expect(gross >= 0n && fee >= 0n).toBe(true);
              grossLeft -= gross;
              feeLeft -= fee;
              unitsLeft -= a.allocatedSize;
              if (a.buyOrderId === null) return;
              const lot = lots.get(a.buyOrderId)!;
              const cost =
                a.allocatedSize === lot.remaining
                  ? lot.cost
                  : round8(usdDecimal(lot.cost).times(size).div(qtyDecimal(lot.remaining)));
              expect(a.costBasis).toBe(cost);
              lot.remaining -= a.allocatedSize;
              lot.cost -= cost;
            });
            if (off !== undefined) expect(off.netProceeds).toBe(grossLeft - feeLeft);
          }
        }
      }),
      RUNS,
    );
  });
});

/** Runs each symbol as a sequence of incremental runs, cut at the given fractions of its history. */
function runInSegments(trades: readonly Trade[], cuts: readonly number[], options: EngineOptions) {
  const allocations: Allocation[] = [];
  const lots: Lot[] = [];
  const writeOffs: DustWriteOff[] = [];
  const symbols = [...bySymbolInOrder(trades).entries()].sort(([a], [b]) => byCodePoint(a, b));
  for (const [symbol, ordered] of symbols) {
    const bounds = [...new Set([0, ...cuts.map((f) => Math.floor(f * ordered.length)), ordered.length])].sort(
      (a, b) => a - b,
    );
    let stored: Lot[] = [];
    let position: TradeKey | null = null;
    const closed: Lot[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      // Each run starts from copies, as if the lots had been written to and read from a database.
      const book: SymbolBook = new SymbolBook(symbol, stored.map(cloneLot), options, position);
      for (const t of ordered.slice(bounds[i], bounds[i + 1])) book.apply(t, allocations);
      closed.push(...book.takeClosedLots().map(cloneLot));
      writeOffs.push(...book.takeWriteOffs());
      stored = book.openLots().map(cloneLot);
      position = book.position;
    }
    lots.push(...[...closed, ...stored].sort((a, b) => byProcessingOrder(buyOf(a), buyOf(b))));
  }
  return { allocations, lots, writeOffs };
}

function buyOf(lot: Lot): Trade {
  return { ...lot, orderId: lot.buyOrderId, side: 'buy', time: lot.buyTime, price: lot.buyPrice, fee: 0n };
}

// Rule 7: incremental runs that resume from stored open lots and position equal one full run.
describe('resumability', () => {
  it('gives the same allocations, lots and write-offs when resumed at any points', () => {
    fc.assert(
      fc.property(
        historyArb,
        dustArb,
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 3 }),
        (rows, dust, cuts) => {
          // Prepare
          const trades = tradesOf(rows);
          const full = computeFifo(trades, { dust });

          // Act
          const resumed = runInSegments(trades, cuts, { dust });

          // Assess
          expect(resultJson(resumed.allocations, resumed.lots, resumed.writeOffs)).toBe(
            resultJson(full.allocations, full.lots, full.writeOffs),
          );
        },
      ),
      RUNS,
    );
  });
});

// Rule 7: the order trades arrive in never changes the result.
describe('input-order independence', () => {
  it('gives byte-identical JSON for a shuffled input', () => {
    fc.assert(
      fc.property(
        historyArb.chain((rows) =>
          fc.tuple(
            fc.constant(rows),
            fc.shuffledSubarray(rows, { minLength: rows.length, maxLength: rows.length }),
          ),
        ),
        dustArb,
        ([rows, shuffled], dust) => {
          // Prepare
          const original = tradesOf(rows);
          const reordered = tradesOf(shuffled);

          // Act
          const a = computeFifo(original, { dust });
          const b = computeFifo(reordered, { dust });

          // Assess
          expect(resultJson(b.allocations, b.lots, b.writeOffs)).toBe(
            resultJson(a.allocations, a.lots, a.writeOffs),
          );
        },
      ),
      RUNS,
    );
  });
});
