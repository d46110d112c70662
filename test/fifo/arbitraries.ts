/**
 * Test helpers for the FIFO engine: builders of raw trade rows, an exact decimal oracle that
 * does not share code with the engine, an independent processing order, and fast-check
 * generators of random multi-symbol histories.
 */
import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import {
  type Allocation,
  allocationRow,
  type DustWriteOff,
  formatQty,
  formatUsd,
  type Lot,
  lotSummary,
  parseScaled,
  parseTrades,
  type Trade,
} from '../../shared/fifo/index.ts';

/** decimal.js with enough precision for 30-dp quantities: nothing is rounded unless asked. */
export const Exact = Decimal.clone({ precision: 200, rounding: Decimal.ROUND_HALF_EVEN });

/** A trade as text, the shape parseTrades reads. */
export interface RawRow {
  order_id: string;
  symbol: string;
  side: string;
  order_time: string;
  price: string;
  size: string;
  fee: string | null;
}

export const SYMBOL = 'BTC-USD';

export function buy(
  orderId: string,
  time: string,
  size: string,
  price: string,
  fee: string | null = '0',
  symbol = SYMBOL,
) {
  return { order_id: orderId, symbol, side: 'buy', order_time: time, price, size, fee } satisfies RawRow;
}

export function sell(
  orderId: string,
  time: string,
  size: string,
  price: string,
  fee: string | null = '0',
  symbol = SYMBOL,
) {
  return { order_id: orderId, symbol, side: 'sell', order_time: time, price, size, fee } satisfies RawRow;
}

/** Validated engine trades from rows that must be valid. */
export function tradesOf(rows: readonly RawRow[]): Trade[] {
  const { trades, errors } = parseTrades(
    rows as unknown as Record<string, unknown>[],
    (i) => `trade ${i + 1}`,
  );
  if (errors.length > 0) throw new Error(`test fixture is invalid:\n${errors.join('\n')}`);
  return trades;
}

/** One valid trade. */
export function tradeOf(row: RawRow): Trade {
  return tradesOf([row])[0]!;
}

/** A USD amount per docs/design.md §2 rule 5 (8 dp, half to even), as a scaled BigInt, via decimal.js. */
export function round8(value: Decimal): bigint {
  return BigInt(value.toDecimalPlaces(8, Decimal.ROUND_HALF_EVEN).times(new Exact(10).pow(8)).toFixed(0));
}

/** Exact decimal of a scaled quantity (30 dp). */
export function qtyDecimal(value: bigint): Decimal {
  return new Exact(formatQty(value));
}

/** Exact decimal of a scaled USD amount (8 dp). */
export function usdDecimal(value: bigint): Decimal {
  return new Exact(formatUsd(value));
}

/** The lot cost a buy must have: round8(size*price + fee), computed independently. */
export function expectedLotCost(t: Trade): bigint {
  return round8(qtyDecimal(t.size).times(qtyDecimal(t.price)).plus(qtyDecimal(t.fee)));
}

/** A sell's gross proceeds: round8(size*price). */
export function expectedGross(t: Trade): bigint {
  return round8(qtyDecimal(t.size).times(qtyDecimal(t.price)));
}

/** A sell's net proceeds: round8(size*price - fee). */
export function expectedNet(t: Trade): bigint {
  return round8(qtyDecimal(t.size).times(qtyDecimal(t.price)).minus(qtyDecimal(t.fee)));
}

/** Compares strings by Unicode code point, written independently of the engine's comparator. */
export function byCodePoint(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  }
  return x.length - y.length;
}

/** docs/design.md §2 rule 1 for trades of one symbol: time, buy before sell, order_id by code point. */
export function byProcessingOrder(a: Trade, b: Trade): number {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  if (a.side !== b.side) return a.side === 'buy' ? -1 : 1;
  return byCodePoint(a.orderId, b.orderId);
}

/** A copy of a lot, as if it had been stored and read back. */
export function cloneLot(lot: Lot): Lot {
  return { ...lot };
}

/** The engine's results as the exact text the CLI and the database writers produce. */
export function resultJson(
  allocations: readonly Allocation[],
  lots: readonly Lot[],
  writeOffs: readonly DustWriteOff[],
) {
  return JSON.stringify({
    allocations: allocations.map(allocationRow),
    lots: lots.map(lotSummary),
    writeOffs: writeOffs.map((w) => ({
      ...w,
      size: formatQty(w.size),
      proceeds: formatUsd(w.proceeds),
      netProceeds: formatUsd(w.netProceeds),
    })),
  });
}

// ---------------------------------------------------------------------------------------------
// Generators

/** A non-negative amount with up to 8 dp, written in one of several equivalent decimal forms. */
function decimalText(quanta: fc.Arbitrary<bigint>): fc.Arbitrary<string> {
  return fc.tuple(quanta, fc.constantFrom('plain', 'padded', 'exponent')).map(([q, form]) => {
    if (form === 'exponent') return `${q}e-8`;
    const digits = q.toString().padStart(9, '0');
    const whole = digits.slice(0, -8);
    const fraction = digits.slice(-8);
    if (form === 'padded') return `${whole}.${fraction}`;
    const trimmed = fraction.replace(/0+$/, '');
    return trimmed ? `${whole}.${trimmed}` : whole;
  });
}

/** Tiny (down to 1e-8), ordinary and large positive amounts. */
const positiveQuanta = fc.oneof(
  { weight: 2, arbitrary: fc.bigInt(1n, 1_000n) },
  { weight: 5, arbitrary: fc.bigInt(1_000_000n, 1_000_000_000_000n) },
  { weight: 1, arbitrary: fc.bigInt(10n ** 16n, 10n ** 20n) },
);

/** Sizes repeat often (so sells empty lots exactly), otherwise any positive amount. */
const sizeText = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('1', '0.5', '2', '3', '0.00000001', '0.33333333') },
  { weight: 3, arbitrary: decimalText(positiveQuanta) },
);

const priceText = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom('1', '0.000000015', '3.33333333', '100', '0.1') },
  { weight: 3, arbitrary: decimalText(positiveQuanta) },
);

/** Fees: absent in several spellings, tiny, ordinary or large. */
const feeText: fc.Arbitrary<string | null> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom<string | null>('0', null, '', '0.00000001', '0.1') },
  { weight: 2, arbitrary: decimalText(fc.bigInt(0n, 10_000_000_000n)) },
);

/** Few distinct instants (so timestamps repeat), each written in one of several equivalent forms. */
const timeText = fc
  .tuple(fc.nat(7), fc.nat(1), fc.constantFrom('Z', '+01:00', 'none', '-0530'))
  .map(([minute, micro, zone]) => {
    const fraction = `.00000${micro}`;
    if (zone === 'Z') return `2024-03-10T12:0${minute}:00${fraction}Z`;
    if (zone === '+01:00') return `2024-03-10T13:0${minute}:00${fraction}+01:00`;
    if (zone === '-0530') return `2024-03-10T06:${30 + minute}:00${fraction}-0530`;
    return `2024-03-10 12:0${minute}:00${fraction}`;
  });

/** Order ids whose code-point order differs from UTF-16 order (surrogate pairs vs U+E000..U+FFFF). */
const orderIdText = fc
  .string({
    unit: fc.constantFrom('a', 'b', 'B', '0', '9', '-', 'é', '\uE000', '\uFFFD', '😀', '𝟘'),
    maxLength: 3,
  })
  .map((s) => `o${s}`);

export const SYMBOLS = ['BTC-USD', 'ETH-USD', 'ÉTH-EUR'] as const;

interface TradeShape {
  symbol: string;
  side: 'buy' | 'sell';
  time: string;
  size: string;
  price: string;
  fee: string | null;
}

const tradeShape: fc.Arbitrary<TradeShape> = fc.record({
  symbol: fc.constantFrom(...SYMBOLS),
  side: fc.oneof(
    { weight: 11, arbitrary: fc.constant('buy' as const) },
    { weight: 9, arbitrary: fc.constant('sell' as const) },
  ),
  time: timeText,
  size: sizeText,
  price: priceText,
  fee: feeText,
});

/** A random multi-symbol history as raw rows, with unique order ids, in arrival (random) order. */
export const historyArb: fc.Arbitrary<RawRow[]> = fc
  .array(tradeShape, { maxLength: 40, size: 'max' })
  .chain((shapes) =>
    fc.uniqueArray(orderIdText, { minLength: shapes.length, maxLength: shapes.length }).map((ids) =>
      shapes.map(
        (s, i): RawRow => ({
          order_id: ids[i]!,
          symbol: s.symbol,
          side: s.side,
          order_time: s.time,
          price: s.price,
          size: s.size,
          fee: s.fee,
        }),
      ),
    ),
  );

/** Per-symbol dust thresholds (sometimes none), as the engine takes them. */
export const dustArb: fc.Arbitrary<Map<string, bigint>> = fc
  .array(fc.tuple(fc.constantFrom(...SYMBOLS), fc.constantFrom('0', '0.00000001', '0.5', '1', '2.5')), {
    maxLength: 3,
  })
  .map((entries) => new Map(entries.map(([symbol, amount]) => [symbol, parseScaled(amount)])));
