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
  source?: string;
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

/**
 * The fields each kind of source test states. The vectors are transcribed from other projects'
 * tests, and each kind gives different figures: rp2's lot-selection test gives lots and no money,
 * Ghostfolio's calculator gives fee-exclusive amounts, a beancount booking that is rejected gives
 * only the error and the untouched lots. A case must state every field of its format: an absent
 * one is a mismatch, never a check skipped. A field beyond its format is compared as well.
 */
interface VectorFormat {
  /** Matches the case's `source`: the project and the test the case comes from. */
  readonly source: RegExp;
  /** Only for a source whose tests come both ways: whether the case expects an error. */
  readonly rejects?: boolean;
  readonly expected: readonly string[];
  readonly sell: readonly string[];
  readonly lot: readonly string[];
  readonly openLot: readonly string[];
}

const OPEN_LOT = ['buy_id', 'remaining'];

const FORMATS: Readonly<Record<string, VectorFormat>> = {
  'rp2 lot-selection test': {
    source: /^eprbell\/rp2 tests\/test_accounting_method\.py /,
    expected: ['per_sell', 'open_lots'],
    sell: ['sell_id', 'lots'],
    lot: ['buy_id', 'size', 'lot_available_before'],
    openLot: OPEN_LOT,
  },
  'rp2 golden report': {
    source: /^eprbell\/rp2 input\/\S+\.ods .*input\/golden\//,
    expected: ['per_sell', 'total_realized_pnl', 'open_lots'],
    sell: ['sell_id', 'cost_basis', 'proceeds', 'pnl', 'lots'],
    lot: ['buy_id', 'size', 'cost_basis', 'proceeds', 'pnl'],
    openLot: OPEN_LOT,
  },
  'Ghostfolio portfolio calculator spec': {
    source: /^ghostfolio\/ghostfolio apps\/api\/src\/app\/portfolio\/calculator\//,
    expected: [
      'per_sell',
      'total_realized_pnl',
      'total_realized_pnl_gross_of_fees',
      'total_fees',
      'open_lots',
    ],
    sell: ['sell_id', 'cost_basis_excl_fees', 'proceeds_excl_fees', 'lots'],
    lot: ['buy_id', 'size'],
    openLot: OPEN_LOT,
  },
  'Ghostfolio issue (a user-stated calculation)': {
    source: /^ghostfolio\/ghostfolio issue #\d+/,
    expected: ['per_sell', 'total_realized_pnl', 'open_lots'],
    sell: ['sell_id', 'pnl'],
    lot: [],
    openLot: OPEN_LOT,
  },
  'beancount booking test, reduction booked': {
    source: /^beancount\/beancount beancount\/parser\/booking_full_test\.py /,
    rejects: false,
    expected: ['per_sell', 'open_lots'],
    sell: ['sell_id', 'cost_basis', 'lots'],
    lot: ['buy_id', 'size', 'unit_cost', 'cost_basis'],
    openLot: OPEN_LOT,
  },
  'beancount booking test, reduction rejected': {
    source: /^beancount\/beancount beancount\/parser\/booking_full_test\.py /,
    rejects: true,
    expected: ['error', 'open_lots'],
    sell: [],
    lot: [],
    openLot: OPEN_LOT,
  },
  'hledger lot disposal test': {
    source: /^simonmichael\/hledger hledger\/test\/journal\/lots-dispose\.test /,
    expected: ['per_sell', 'total_realized_pnl', 'open_lots'],
    sell: ['sell_id', 'proceeds', 'pnl', 'cost_basis', 'lots'],
    lot: ['buy_id', 'size'],
    openLot: OPEN_LOT,
  },
  'rotki cost basis test': {
    source: /^rotki\/rotki rotkehlchen\/tests\/unit\/test_cost_basis\.py /,
    expected: ['per_sell', 'open_lots'],
    sell: ['sell_id', 'cost_basis', 'is_complete', 'lots'],
    lot: ['buy_id', 'size'],
    openLot: OPEN_LOT,
  },
  'freqtrade persistence test': {
    source: /^freqtrade\/freqtrade tests\/persistence\/test_persistence\.py /,
    expected: ['per_sell', 'total_realized_pnl', 'open_lots'],
    sell: ['sell_id', 'cost_basis', 'proceeds', 'pnl', 'lots'],
    lot: ['buy_id', 'size'],
    openLot: OPEN_LOT,
  },
};

/** Stands in for a case of no declared format, which the format test fails: it requires nothing. */
const NO_FORMAT: VectorFormat = { source: /$^/, expected: [], sell: [], lot: [], openLot: [] };

/** The declared formats the case matches; exactly one is required. */
function formatsOf(vector: VectorCase): string[] {
  return Object.entries(FORMATS)
    .filter(
      ([, format]) =>
        format.source.test(String(vector.source ?? '')) &&
        (format.rejects === undefined || format.rejects === (vector.expected.error !== undefined)),
    )
    .map(([name]) => name);
}

function formatOf(vector: VectorCase): VectorFormat {
  const names = formatsOf(vector);
  return names.length === 1 ? FORMATS[names[0]!]! : NO_FORMAT;
}

/** The fields of an item to compare: its format's, whether stated or not, and any other it states. */
const toCompare = (provided: readonly string[], item: Fields, among: readonly string[]) =>
  among.filter((field) => provided.includes(field) || item[field] !== undefined);

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
  /** `expected` undefined means the case leaves out a field it must state: a mismatch. */
  compare(where: string, expected: unknown, actual: Decimal | null) {
    if (expected === undefined) {
      this.list.push(`${where}: not stated by the case`);
      return;
    }
    if (actual === null) {
      if (expected !== null) this.list.push(`${where}: expected ${String(expected)}, engine has none`);
      return;
    }
    if (typeof expected !== 'string' || !dec(expected).equals(actual)) {
      this.list.push(`${where}: expected ${String(expected)}, engine ${actual.toString()}`);
    }
  }
}

type Figures = Record<string, Decimal | null>;

/** The figures of a group of slices (one slice or a whole sell), named as the vectors name them. */
function figures(slices: readonly Allocation[], priced: boolean): Figures {
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
const TOTAL_FIELDS = ['total_realized_pnl', 'total_realized_pnl_gross_of_fees', 'total_fees'];

/**
 * Lot selection: per sell, the lots in order with their sizes (buy_id null = the unmatched row).
 * A case stating per_sell lists each of its sells once.
 */
function checkSelection(vector: VectorCase, ref: Run): string[] {
  const m = new Mismatches();
  const format = formatOf(vector);
  const bySell = slicesBySell(ref.allocations);
  const perSell = vector.expected.per_sell as Fields[] | undefined;
  if (perSell === undefined) {
    if (format.expected.includes('per_sell')) m.list.push('per_sell: not stated by the case');
    return m.list;
  }
  const sells = vector.trades.filter((t) => t.side.trim().toLowerCase() === 'sell').map((t) => t.id);
  const listed = perSell.map((s) => s.sell_id as string);
  if ([...listed].sort().join('\n') !== [...sells].sort().join('\n'))
    m.list.push(`per_sell lists [${listed.join(', ')}], the case's sells are [${sells.join(', ')}]`);
  for (const expectedSell of perSell) {
    const id = expectedSell.sell_id as string;
    const lots = expectedSell.lots as Fields[] | undefined;
    if (lots === undefined) {
      if (format.sell.includes('lots')) m.list.push(`${id} lots: not stated by the case`);
      continue;
    }
    const slices = bySell.get(id) ?? [];
    const got = slices.map((a) => `${a.buyOrderId}:${formatQty(a.allocatedSize)}`).join(', ');
    if (slices.length !== lots.length) m.list.push(`${id}: expected ${lots.length} slices, engine [${got}]`);
    lots.forEach((lot, i) => {
      const slice = slices[i];
      if (slice === undefined) return;
      if (lot.buy_id !== slice.buyOrderId)
        m.list.push(`${id} slice ${i + 1}: expected lot ${lot.buy_id}, engine [${got}]`);
      m.compare(`${id} slice ${i + 1} size`, lot.size, qty(slice.allocatedSize));
      if (toCompare(format.lot, lot, ['lot_available_before']).length > 0)
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
  const format = formatOf(vector);
  const bySell = slicesBySell(ref.allocations);
  /** Proceeds and pnl of a sell without a source price mean nothing: a case must not state them. */
  const compareAmounts = (
    where: string,
    provided: readonly string[],
    item: Fields,
    got: Figures,
    priced: boolean,
  ) => {
    for (const field of toCompare(provided, item, AMOUNT_FIELDS)) {
      if (priced || !PRICED_FIELDS.has(field)) m.compare(`${where} ${field}`, item[field], got[field]!);
      else m.list.push(`${where} ${field}: stated for a sell the source gives no price for`);
    }
  };
  for (const expectedSell of (vector.expected.per_sell ?? []) as Fields[]) {
    const id = expectedSell.sell_id as string;
    const slices = bySell.get(id) ?? [];
    const priced = !ref.priceless.has(id);
    compareAmounts(id, format.sell, expectedSell, figures(slices, priced), priced);
    if (toCompare(format.sell, expectedSell, ['is_complete']).length > 0) {
      const complete = slices.every((a) => a.buyOrderId !== null);
      if (expectedSell.is_complete !== complete)
        m.list.push(`${id} is_complete: expected ${expectedSell.is_complete}, engine ${complete}`);
    }
    ((expectedSell.lots ?? []) as Fields[]).forEach((lot, i) => {
      const slice = slices[i];
      if (slice === undefined || slice.buyOrderId !== lot.buy_id) return; // reported by checkSelection
      compareAmounts(`${id} slice ${i + 1}`, format.lot, lot, figures([slice], priced), priced);
      if (toCompare(format.lot, lot, ['unit_cost']).length > 0)
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
  const stated = toCompare(formatOf(vector).expected, e, TOTAL_FIELDS);
  if (stated.length === 0) return m.list;
  // Sells without a source price have no meaningful proceeds, so no realized total can be checked.
  if (ref.allocations.some((a) => ref.priceless.has(a.sellOrderId))) {
    m.list.push(`${stated.join(', ')}: stated for sells the source gives no price for`);
    return m.list;
  }
  const matched = ref.allocations.filter((a) => a.buyOrderId !== null);
  const realized = sum(matched.map((a) => usd(a.pnl!)));
  const gross = toUsd(
    sum(matched.map((a) => qty(a.allocatedSize).times(qty(a.sellPrice).minus(qty(a.buyPrice!))))),
  );
  const fees = sum(ref.trades.map((t) => qty(t.fee)));
  if (stated.includes('total_realized_pnl_gross_of_fees'))
    m.compare('total_realized_pnl_gross_of_fees', e.total_realized_pnl_gross_of_fees, gross);
  if (stated.includes('total_fees')) m.compare('total_fees', e.total_fees, fees);
  if (!stated.includes('total_realized_pnl')) return m.list;
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
  const format = formatOf(vector);
  const expected = vector.expected.open_lots as Fields[] | undefined;
  if (expected === undefined) {
    if (format.expected.includes('open_lots')) m.list.push('open_lots: not stated by the case');
    return m.list;
  }
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
    if (toCompare(format.openLot, lot, ['remaining_cost']).length > 0)
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

/** The fields of its format (and every trade field) the case leaves out. */
function absentFields(vector: VectorCase, format: VectorFormat): string[] {
  const absent = (where: string, item: Fields, provided: readonly string[]) =>
    provided.filter((k) => item[k] === undefined).map((k) => `${where}.${k}`);
  const e = vector.expected;
  return [
    ...vector.trades.flatMap((t) => absent(`trade ${t.id}`, t, KNOWN.trade)),
    ...absent('expected', e, format.expected),
    ...((e.per_sell ?? []) as Fields[]).flatMap((s) => [
      ...absent(`per_sell ${s.sell_id}`, s, format.sell),
      ...((s.lots ?? []) as Fields[]).flatMap((l, i) =>
        absent(`per_sell ${s.sell_id} lot ${i + 1}`, l, format.lot),
      ),
    ]),
    ...((e.open_lots ?? []) as Fields[]).flatMap((l) => absent(`open_lots ${l.buy_id}`, l, format.openLot)),
  ];
}

// ---------------------------------------------------------------------------------------------

// Without cases every other test here would pass vacuously.
describe(`conformance vectors from ${vectorFile}`, () => {
  it('holds at least one case, each id once', () => {
    // Prepare
    const ids = cases.map((c) => c.id);

    // Act
    const unique = new Set(ids);

    // Assess
    expect(ids.length).toBeGreaterThan(0);
    expect(unique.size).toBe(ids.length);
  });

  it('declares formats of fields this harness compares', () => {
    // Prepare
    const formats = Object.entries(FORMATS);

    // Act
    const beyond = formats.flatMap(([name, format]) => [
      ...format.expected.filter((k) => !KNOWN.expected.includes(k)).map((k) => `${name}: expected.${k}`),
      ...format.sell.filter((k) => !KNOWN.sell.includes(k)).map((k) => `${name}: per_sell.${k}`),
      ...format.lot.filter((k) => !KNOWN.lot.includes(k)).map((k) => `${name}: lots.${k}`),
      ...format.openLot.filter((k) => !KNOWN.openLot.includes(k)).map((k) => `${name}: open_lots.${k}`),
    ]);

    // Assess
    expect(beyond).toEqual([]);
  });
});

// The checks are generic: each compares the fields the case's format provides, and any other it states.
describe.each(cases.map((c) => [c.id, c] as const))('%s', (_, vector) => {
  it('comes from exactly one declared vector format', () => {
    // Prepare
    const source = vector.source;

    // Act
    const formats = formatsOf(vector);

    // Assess
    expect(formats, `source: ${source}`).toHaveLength(1);
  });

  it('states every field its format provides', () => {
    // Prepare
    const format = formatOf(vector);

    // Act
    const absent = absentFields(vector, format);

    // Assess
    expect(absent).toEqual([]);
  });

  it('states only fields this harness compares', () => {
    // Prepare
    const fields = vector;

    // Act
    const unknown = unknownFields(fields);

    // Assess
    expect(unknown).toEqual([]);
  });

  it('selects the same lots for every sell', () => {
    // Prepare
    const ref = referenceRun(vector);

    // Act
    const mismatches = checkSelection(vector, ref);

    // Assess
    expect(mismatches).toEqual([]);
  });

  it('gives the same cost basis, proceeds and pnl', () => {
    // Prepare
    const ref = referenceRun(vector);

    // Act
    const mismatches = checkAmounts(vector, ref);

    // Assess
    expect(mismatches).toEqual([]);
  });

  it("gives the same totals, under the case's fee convention", () => {
    // Prepare
    const ref = referenceRun(vector);

    // Act
    const mismatches = checkTotals(vector, ref);

    // Assess
    expect(mismatches).toEqual([]);
  });

  it('leaves the same lots open', () => {
    // Prepare
    const ref = referenceRun(vector);

    // Act
    const mismatches = checkOpenLots(vector, ref);

    // Assess
    expect(mismatches).toEqual([]);
  });

  // A source's error on an uncovered sell is our unmatched row, or UnmatchedSellError under 'error'.
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
