/**
 * A seeded, deterministic generator of realistic bot trades: several symbols, buys and
 * partial sells, sells that span lots, about 1% oversells, fees, 8-decimal sizes. Used by
 * `npm start` and by the benchmark. Amounts are built as integers of 1e-8 and printed as
 * decimal text: no floating point touches a value.
 */
import { formatScaled } from '../fifo/index.ts';

export interface SampleTrade {
  readonly order_id: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly order_time: string;
  readonly price: string;
  readonly size: string;
  readonly fee: string;
}

export interface SampleOptions {
  readonly trades: number;
  /** @default 4 */
  readonly symbols?: number;
  /** @default 42 */
  readonly seed?: number;
  /** First trade time. @default 2026-01-01T00:00:00Z */
  readonly start?: string;
  /** Seconds between trades. @default 60 */
  readonly spacingSeconds?: number;
  /** Fraction of sells that oversell the position. @default 0.01 */
  readonly oversellRate?: number;
}

/** mulberry32: small, fast, good enough for test data, and the same on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BASES = [
  { name: 'BTC', price: 6_500_000_000_000n, unit: 1_000_000n },
  { name: 'ETH', price: 320_000_000_000n, unit: 20_000_000n },
  { name: 'SOL', price: 15_000_000_000n, unit: 500_000_000n },
  { name: 'TOSHI', price: 42_300n, unit: 2_000_000_000_000n },
  { name: 'DOGE', price: 16_000_000n, unit: 50_000_000_000n },
  { name: 'ADA', price: 45_000_000n, unit: 20_000_000_000n },
];

/** Symbol names: the familiar ones first, then SYM5-USD, SYM6-USD, ... */
export function sampleSymbols(count: number): { symbol: string; price: bigint; unit: bigint }[] {
  return Array.from({ length: count }, (_, i) => {
    const base = BASES[i % BASES.length]!;
    const name = i < BASES.length ? base.name : `SYM${i}`;
    return { symbol: `${name}-USD`, price: base.price, unit: base.unit };
  });
}

const E8 = 100_000_000n;
const FEE_BPS = 10n; // 0.1%, a maker fee

/** Trades in time order. Prices and sizes are integers of 1e-8, fees 1e-8 rounded down. */
export function* generateTrades(options: SampleOptions): Generator<SampleTrade> {
  const random = seededRandom(options.seed ?? 42);
  const symbols = sampleSymbols(options.symbols ?? 4).map((s) => ({ ...s, position: 0n }));
  const start = Date.parse(options.start ?? '2026-01-01T00:00:00Z');
  const spacing = (options.spacingSeconds ?? 60) * 1000;
  const oversellRate = options.oversellRate ?? 0.01;
  const hex = () =>
    Math.floor(random() * 0x1_0000_0000)
      .toString(16)
      .padStart(8, '0');
  for (let i = 0; i < options.trades; i++) {
    const s = symbols[Math.floor(random() * symbols.length)]!;
    // A random walk of about ±1% per trade.
    const move = BigInt(Math.round((random() - 0.5) * 200));
    s.price = s.price + (s.price * move) / 10_000n;
    if (s.price < 100n) s.price = 100n;
    let side: 'buy' | 'sell';
    let size: bigint;
    const roll = random();
    if (s.position === 0n || roll < 0.5) {
      side = 'buy';
      size = (s.unit * BigInt(1 + Math.floor(random() * 1000))) / 100n + BigInt(Math.floor(random() * 100));
    } else if (roll < 0.5 + oversellRate) {
      side = 'sell';
      size = s.position + s.unit / 10n + 1n;
    } else if (roll < 0.65) {
      side = 'sell';
      size = s.position;
    } else {
      side = 'sell';
      size = (s.position * BigInt(1 + Math.floor(random() * 99))) / 100n || s.position;
    }
    s.position = side === 'buy' ? s.position + size : size >= s.position ? 0n : s.position - size;
    const fee = (size * s.price * FEE_BPS) / (E8 * 10_000n);
    const time = new Date(start + i * spacing + Math.floor(random() * 1000)).toISOString();
    yield {
      order_id: `${hex()}-${hex().slice(0, 4)}-4${hex().slice(0, 3)}-${hex().slice(0, 4)}-${hex()}${i.toString(16).padStart(4, '0')}`,
      symbol: s.symbol,
      side,
      order_time: time,
      price: formatScaled(s.price, 8),
      size: formatScaled(size, 8),
      fee: formatScaled(fee, 8),
    };
  }
}
