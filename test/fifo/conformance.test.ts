// Runs the public FIFO test vectors of other projects (and hidden ones via FIFO_CONFORMANCE_FILE)
// through the engine, comparing generically from each case's fields.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Decimal } from 'decimal.js';
import { describe, expect, it } from 'vitest';
import {
  type Allocation,
  computeFifo,
  type EngineOptions,
  formatQty,
  formatUsd,
  type Lot,
  parseTrades,
  type Trade,
  UnmatchedSellError,
} from '../../shared/fifo/index.ts';
import { Exact } from './arbitraries.ts';

// ---------------------------------------------------------------------------------------------
// The vector file

interface VectorTrade {
  id: string;
  time: string;
  symbol: string;
  side: string;
  size: string;
  price: string | null;
  fee: string | null;
  [source: string]: unknown;
}

type Fields = Record<string, unknown>;

interface VectorCase {
  id: string;
  fee_convention?: string;
  notes?: string;
  trades: VectorTrade[];
  expected: Fields;
}

const here = dirname(fileURLToPath(import.meta.url));
/**
 * The vectors: FIFO_CONFORMANCE_FILE when set; else every .json file in the team's shared
 * conformance folder beside the checkout (../shared/conformance), where more vectors from the
 * same sources appear; else the copy of the public vectors kept in the repository.
 */
function vectorFiles(): string[] {
  if (process.env.FIFO_CONFORMANCE_FILE) return [resolve(process.env.FIFO_CONFORMANCE_FILE)];
  const shared = resolve(here, '../../../shared/conformance');
  if (existsSync(shared)) {
    const files = readdirSync(shared).filter((f) => f.endsWith('.json'));
    if (files.length > 0) return files.sort().map((f) => join(shared, f));
  }
  return [resolve(here, '../fixtures/conformance/public-vectors.json')];
}
const vectorFile = vectorFiles().join(', ');
const cases = vectorFiles().flatMap(
  (file) => (JSON.parse(readFileSync(file, 'utf8')) as { cases: VectorCase[] }).cases,
);

/** Placeholder price of sells the source gives no price for: only sizes and cost basis are checked. */
const PLACEHOLDER_PRICE = '1';

/** Fields this harness compares; anything else makes the "understood" test fail instead of passing silently. */
const KNOWN = {
  expected: [
    'per_sell',
    'open_lots',
    'total_realized_pnl',
    'total_realized_pnl_gross_of_fees',
    'total_fees',
    'error',
  ],
  sell: [
    'sell_id',
    'lots',
    'cost_basis',
    'proceeds',
    'pnl',
    'cost_basis_excl_fees',
    'proceeds_excl_fees',
    'pnl_excl_fees',
    'is_complete',
  ],
  lot: [
    'buy_id',
    'size',
    'cost_basis',
    'proceeds',
    'pnl',
    'cost_basis_excl_fees',
    'proceeds_excl_fees',
    'pnl_excl_fees',
    'unit_cost',
    'lot_available_before',
  ],
  openLot: ['buy_id', 'remaining', 'remaining_cost'],
  trade: ['id', 'time', 'symbol', 'side', 'size', 'price', 'fee'],
};

// ---------------------------------------------------------------------------------------------
// Running a case

interface Run {
  readonly allocations: Allocation[];
  readonly lots: Lot[];
  readonly trades: Trade[];
  /** Sells whose price the source does not give: their proceeds and pnl mean nothing. */
  readonly priceless: Set<string>;
}

function run(vector: VectorCase, options: EngineOptions = {}, without: ReadonlySet<string> = new Set()): Run {
  const rows = vector.trades
    .filter((t) => !without.has(t.id))
    .map((t) => ({
      order_id: t.id,
      symbol: t.symbol,
      side: t.side,
      order_time: t.time,
      price: t.price ?? PLACEHOLDER_PRICE,
      size: t.size,
      fee: t.fee,
    }));
  const { trades, errors } = parseTrades(rows, (i) => `trade ${i + 1}`);
  if (errors.length > 0) throw new Error(`case ${vector.id} has invalid trades:\n${errors.join('\n')}`);
  const { allocations, lots } = computeFifo(trades, options);
  const priceless = new Set(vector.trades.filter((t) => t.price === null).map((t) => t.id));
  return { allocations, lots, trades, priceless };
}

/**
 * The rejected sells of a case whose source errors on an uncovered sell: excluded one at a time,
 * as a ledger that rejects the transaction and carries on would.
 */
function rejectedSells(vector: VectorCase): string[] {
  const rejected: string[] = [];
  for (;;) {
    try {
      run(vector, { onUnmatched: 'error' }, new Set(rejected));
      return rejected;
    } catch (error) {
      if (!(error instanceof UnmatchedSellError)) throw error;
      rejected.push(error.sell.orderId);
    }
  }
}

/** The run the expected figures describe: for error cases, the state with the rejected sells excluded. */
function referenceRun(vector: VectorCase): Run {
  return vector.expected.error === undefined ? run(vector) : run(vector, {}, new Set(rejectedSells(vector)));
}

// ---------------------------------------------------------------------------------------------
// Comparing

const dec = (text: string) => new Exact(text);
const usd = (value: bigint) => dec(formatUsd(value));
const qty = (value: bigint) => dec(formatQty(value));
const sum = (values: readonly Decimal[]) => values.reduce((a, b) => a.plus(b), dec('0'));
/** Values the engine does not round itself (e.g. size x price) are compared at the USD quantum. */
const toUsd = (value: Decimal) => value.toDecimalPlaces(8, Decimal.ROUND_HALF_EVEN);

class Mismatches {
  readonly list: string[] = [];
  compare(where: string, expected: unknown, actual: Decimal | null) {
    if (expected === undefined) return;
    if (actual === null) {
      if (expected !== null) this.list.push(`${where}: expected ${String(expected)}, engine has none`);
      return;
    }
    if (typeof expected !== 'string' || !dec(expected).equals(actual)) {
      this.list.push(`${where}: expected ${String(expected)}, engine ${actual.toString()}`);
    }
  }
}

/** The figures of a group of slices (one slice or a whole sell), named as the vectors name them. */
function figures(slices: readonly Allocation[], priced: boolean): Record<string, Decimal | null> {
  const matched = slices.filter((a) => a.buyOrderId !== null);
  const costExcl = sum(matched.map((a) => qty(a.allocatedSize).times(qty(a.buyPrice!))));
  const proceedsExcl = sum(slices.map((a) => qty(a.allocatedSize).times(qty(a.sellPrice))));
  const matchedProceedsExcl = sum(matched.map((a) => qty(a.allocatedSize).times(qty(a.sellPrice))));
  return {
    size: sum(slices.map((a) => qty(a.allocatedSize))),
    cost_basis: sum(matched.map((a) => usd(a.costBasis!))),
    cost_basis_excl_fees: toUsd(costExcl),
    proceeds: priced ? sum(slices.map((a) => usd(a.netProceeds))) : null,
    proceeds_excl_fees: priced ? toUsd(proceedsExcl) : null,
    pnl: priced && matched.length > 0 ? sum(matched.map((a) => usd(a.pnl!))) : null,
    pnl_excl_fees: priced && matched.length > 0 ? toUsd(matchedProceedsExcl.minus(costExcl)) : null,
  };
}

const AMOUNT_FIELDS = [
  'cost_basis',
  'proceeds',
  'pnl',
  'cost_basis_excl_fees',
  'proceeds_excl_fees',
  'pnl_excl_fees',
];
const PRICED_FIELDS = new Set(['proceeds', 'pnl', 'proceeds_excl_fees', 'pnl_excl_fees']);

/** Lot selection: per sell, the lots in order with their sizes (buy_id null = the unmatched row). */
function checkSelection(vector: VectorCase, ref: Run): string[] {
  const m = new Mismatches();
  const bySell = slicesBySell(ref.allocations);
  for (const expectedSell of (vector.expected.per_sell ?? []) as Fields[]) {
    const id = expectedSell.sell_id as string;
    const lots = expectedSell.lots as Fields[] | undefined;
    if (lots === undefined) continue;
    const slices = bySell.get(id) ?? [];
    const got = slices.map((a) => `${a.buyOrderId}:${formatQty(a.allocatedSize)}`).join(', ');
    if (slices.length !== lots.length) m.list.push(`${id}: expected ${lots.length} slices, engine [${got}]`);
    lots.forEach((lot, i) => {
      const slice = slices[i];
      if (slice === undefined) return;
      if (lot.buy_id !== slice.buyOrderId)
        m.list.push(`${id} slice ${i + 1}: expected lot ${lot.buy_id}, engine [${got}]`);
      m.compare(`${id} slice ${i + 1} size`, lot.size, qty(slice.allocatedSize));
      m.compare(
        `${id} slice ${i + 1} lot_available_before`,
        lot.lot_available_before,
        availableBefore(ref, slice),
      );
    });
  }
  return m.list;
}

/** Money per slice and per sell, skipping proceeds and pnl of sells without a source price. */
function checkAmounts(vector: VectorCase, ref: Run): string[] {
  const m = new Mismatches();
  const bySell = slicesBySell(ref.allocations);
  for (const expectedSell of (vector.expected.per_sell ?? []) as Fields[]) {
    const id = expectedSell.sell_id as string;
    const slices = bySell.get(id) ?? [];
    const priced = !ref.priceless.has(id);
    const whole = figures(slices, priced);
    for (const field of AMOUNT_FIELDS) {
      if (priced || !PRICED_FIELDS.has(field))
        m.compare(`${id} ${field}`, expectedSell[field], whole[field]!);
    }
    if (expectedSell.is_complete !== undefined) {
      const complete = slices.every((a) => a.buyOrderId !== null);
      if (expectedSell.is_complete !== complete)
        m.list.push(`${id} is_complete: expected ${expectedSell.is_complete}`);
    }
    ((expectedSell.lots ?? []) as Fields[]).forEach((lot, i) => {
      const slice = slices[i];
      if (slice === undefined || slice.buyOrderId !== lot.buy_id) return; // reported by checkSelection
      const one = figures([slice], priced);
      for (const field of AMOUNT_FIELDS) {
        if (priced || !PRICED_FIELDS.has(field))
          m.compare(`${id} slice ${i + 1} ${field}`, lot[field], one[field]!);
      }
      m.compare(
        `${id} slice ${i + 1} unit_cost`,
        lot.unit_cost,
        slice.buyPrice === null ? null : qty(slice.buyPrice),
      );
    });
  }
  return m.list;
}

/**
 * Totals. When the case states total_fees, its source charges ALL fees of the position (also those
 * of units still held) against the gross result, so total_realized_pnl is compared as
 * gross - total fees, and also as Σ pnl once no lot is left open.
 */
function checkTotals(vector: VectorCase, ref: Run): string[] {
  const m = new Mismatches();
  const e = vector.expected;
  // Sells without a source price have no meaningful proceeds, so no realized total can be checked.
  if (ref.allocations.some((a) => ref.priceless.has(a.sellOrderId))) return m.list;
  const matched = ref.allocations.filter((a) => a.buyOrderId !== null);
  const realized = sum(matched.map((a) => usd(a.pnl!)));
  const gross = toUsd(
    sum(matched.map((a) => qty(a.allocatedSize).times(qty(a.sellPrice).minus(qty(a.buyPrice!))))),
  );
  const fees = sum(ref.trades.map((t) => qty(t.fee)));
  m.compare('total_realized_pnl_gross_of_fees', e.total_realized_pnl_gross_of_fees, gross);
  m.compare('total_fees', e.total_fees, fees);
  if (e.total_fees === undefined) {
    m.compare('total_realized_pnl', e.total_realized_pnl, realized);
  } else {
    m.compare('total_realized_pnl (gross - all fees)', e.total_realized_pnl, gross.minus(fees));
    if (ref.lots.every((l) => l.remaining === 0n))
      m.compare('total_realized_pnl', e.total_realized_pnl, realized);
  }
  return m.list;
}

/** The open lots, exactly: the listed ones with their remaining size, and no other. */
function checkOpenLots(vector: VectorCase, ref: Run): string[] {
  const m = new Mismatches();
  const expected = vector.expected.open_lots as Fields[] | undefined;
  if (expected === undefined) return [];
  const open = new Map(ref.lots.filter((l) => l.remaining > 0n).map((l) => [l.buyOrderId, l]));
  for (const lot of expected) {
    const ours = open.get(lot.buy_id as string);
    if (ours === undefined) {
      m.list.push(
        `open lot ${lot.buy_id}: expected remaining ${lot.remaining}, engine has it closed or unknown`,
      );
      continue;
    }
    m.compare(`open lot ${lot.buy_id} remaining`, lot.remaining, qty(ours.remaining));
    m.compare(`open lot ${lot.buy_id} remaining_cost`, lot.remaining_cost, usd(ours.remainingCost));
    open.delete(ours.buyOrderId);
  }
  for (const extra of open.values())
    m.list.push(`open lot ${extra.buyOrderId} (${formatQty(extra.remaining)}) not expected`);
  return m.list;
}

function slicesBySell(allocations: readonly Allocation[]): Map<string, Allocation[]> {
  const bySell = new Map<string, Allocation[]>();
  for (const a of allocations) bySell.set(a.sellOrderId, [...(bySell.get(a.sellOrderId) ?? []), a]);
  return bySell;
}

/** What a slice's lot held when its sell began: its size less what earlier sells took from it. */
function availableBefore(ref: Run, slice: Allocation): Decimal | null {
  const lot = ref.lots.find((l) => l.buyOrderId === slice.buyOrderId);
  if (lot === undefined) return null;
  let available = lot.size;
  for (const a of ref.allocations) {
    if (a.sellOrderId === slice.sellOrderId) break;
    if (a.buyOrderId === lot.buyOrderId) available -= a.allocatedSize;
  }
  return qty(available);
}

function unknownFields(vector: VectorCase): string[] {
  const unknown = (where: string, item: Fields, known: readonly string[]) =>
    Object.keys(item)
      .filter((k) => !known.includes(k) && !(where === 'trade' && k.startsWith('source_')))
      .map((k) => `${where}.${k}`);
  const e = vector.expected;
  return [
    ...vector.trades.flatMap((t) => unknown('trade', t, KNOWN.trade)),
    ...unknown('expected', e, KNOWN.expected),
    ...((e.per_sell ?? []) as Fields[]).flatMap((s) => [
      ...unknown('per_sell', s, KNOWN.sell),
      ...((s.lots ?? []) as Fields[]).flatMap((l) => unknown('per_sell.lots', l, KNOWN.lot)),
    ]),
    ...((e.open_lots ?? []) as Fields[]).flatMap((l) => unknown('open_lots', l, KNOWN.openLot)),
  ];
}

// ---------------------------------------------------------------------------------------------

// The vector file must load and hold cases, or every other test here would pass vacuously.
describe(`conformance vectors from ${vectorFile}`, () => {
  // An empty or unreadable vector file must fail loudly.
  it('holds at least one case', () => {
    // Prepare
    const ids = cases.map((c) => c.id);

    // Act
    const unique = new Set(ids);

    // Assess
    expect(ids.length).toBeGreaterThan(0);
    expect(unique.size).toBe(ids.length);
  });
});

// One describe per case; the checks are generic, driven by the fields the case states.
describe.each(cases.map((c) => [c.id, c] as const))('%s', (_, vector) => {
  // A field the harness does not compare must not pass unnoticed.
  it('states only fields this harness compares', () => {
    // Prepare
    const fields = vector;

    // Act
    const unknown = unknownFields(fields);

    // Assess
    expect(unknown).toEqual([]);
  });

  // The engine picks the same lots, in the same order, with the same sizes as the source.
  it('selects the same lots for every sell', () => {
    // Prepare
    const ref = referenceRun(vector);

    // Act
    const mismatches = checkSelection(vector, ref);

    // Assess
    expect(mismatches).toEqual([]);
  });

  // Cost basis, proceeds and pnl per slice and per sell agree with the source's figures.
  it('gives the same cost basis, proceeds and pnl', () => {
    // Prepare
    const ref = referenceRun(vector);

    // Act
    const mismatches = checkAmounts(vector, ref);

    // Assess
    expect(mismatches).toEqual([]);
  });

  // Realized totals agree, under the case's fee convention.
  it('gives the same totals', () => {
    // Prepare
    const ref = referenceRun(vector);

    // Act
    const mismatches = checkTotals(vector, ref);

    // Assess
    expect(mismatches).toEqual([]);
  });

  // The lots left open are exactly the ones the source leaves open.
  it('leaves the same lots open', () => {
    // Prepare
    const ref = referenceRun(vector);

    // Act
    const mismatches = checkOpenLots(vector, ref);

    // Assess
    expect(mismatches).toEqual([]);
  });

  // A source error on an uncovered sell is our unmatched row, or UnmatchedSellError under 'error'.
  if (vector.expected.error !== undefined) {
    it('rejects the uncovered sell: an unmatched row, or an error', () => {
      // Prepare
      const asRows = run(vector);

      // Act
      const rejected = rejectedSells(vector);

      // Assess
      expect(rejected.length).toBeGreaterThan(0);
      const unmatched = new Set(
        asRows.allocations.filter((a) => a.buyOrderId === null).map((a) => a.sellOrderId),
      );
      expect(unmatched.has(rejected[0]!)).toBe(true);
      expect(() => run(vector, { onUnmatched: 'error' })).toThrow(UnmatchedSellError);
    });
  }
});
