/**
 * A seeded, deterministic generator of realistic bot trades: several symbols, buys and
 * partial sells, sells that span lots, about 1% oversells, fees, 8-decimal sizes, and the
 * bot's trigger names and sources (entry triggers on buys, exit triggers on sells; webhook,
 * websocket, manual; passivemm for the market maker's near-instant roundtrips, which
 * `roundtripRate` turns on). Used by `npm start`, the tests and the benchmark. Amounts are
 * built as integers of 1e-8 and printed as decimal text: no floating point touches a value.
 *
 * Triggers, sources and roundtrips come from a second random stream: the same seed gives the
 * same symbols, sides, times, prices, sizes and fees with or without them.
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
  /** The strategy's name, as the bot writes it in trigger->>'trigger'; null: trigger is {}. */
  readonly trigger?: string | null;
  /** trade_records.source: webhook, websocket, passivemm, manual, ... */
  readonly source?: string | null;
}

/** The bot's entry triggers (buys) and exit triggers (sells), with their weights. */
export const ENTRY_TRIGGERS = [
  ['roc_momo', 40],
  ['breakout', 25],
  ['mean_revert', 20],
  ['dca', 13],
] as const;
export const EXIT_TRIGGERS = [
  ['tp', 45],
  ['sl', 30],
  ['trailing_stop', 15],
  ['roc_exit', 8],
] as const;
/** The sources of the trades a strategy places (passivemm places the roundtrips). */
export const SOURCES = [
  ['webhook', 60],
  ['websocket', 35],
  ['manual', 5],
] as const;
export const MARKET_MAKER = { trigger: 'passivemm', source: 'passivemm' } as const;

/** A weighted pick; the remainder to 100 is null (a trade whose trigger is {}). */
function pick(random: () => number, choices: readonly (readonly [string, number])[]): string | null {
  let roll = random() * 100;
  for (const [name, weight] of choices) {
    if (roll < weight) return name;
    roll -= weight;
  }
  return null;
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
  /**
   * Fraction of buys into a flat position that the market maker sells again within seconds
   * (a near-instant roundtrip, trigger and source passivemm). These trades come on top of
   * `trades`. @default 0
   */
  readonly roundtripRate?: number;
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
  const roundtripRate = options.roundtripRate ?? 0;
  // The second stream: triggers, sources and roundtrips never move the first one.
  const labels = seededRandom(((options.seed ?? 42) ^ 0x5eed) >>> 0);
  const hexOf = (r: () => number) => () =>
    Math.floor(r() * 0x1_0000_0000)
      .toString(16)
      .padStart(8, '0');
  const hex = hexOf(random);
  const labelHex = hexOf(labels);
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
    const at = start + i * spacing + Math.floor(random() * 1000);
    const flatBefore = side === 'buy' && s.position === size;
    const roundtrip = flatBefore && roundtripRate > 0 && spacing >= 2000 && labels() < roundtripRate;
    const source = roundtrip ? MARKET_MAKER.source : pick(labels, SOURCES);
    yield {
      order_id: `${hex()}-${hex().slice(0, 4)}-4${hex().slice(0, 3)}-${hex().slice(0, 4)}-${hex()}${i.toString(16).padStart(4, '0')}`,
      symbol: s.symbol,
      side,
      order_time: new Date(at).toISOString(),
      price: formatScaled(s.price, 8),
      size: formatScaled(size, 8),
      fee: formatScaled(fee, 8),
      trigger: roundtrip
        ? MARKET_MAKER.trigger
        : pick(labels, side === 'buy' ? ENTRY_TRIGGERS : EXIT_TRIGGERS),
      source,
    };
    if (roundtrip) {
      // Sold again within seconds, before the next trade: FIFO takes this very lot.
      const delay = Math.max(1, Math.floor((spacing / 1000 / 2) * (0.2 + 0.8 * labels()))) * 1000;
      // A market maker's spread: 2 to 30 bps over the buy, against 20 bps of fees both ways.
      const sellPrice = s.price + (s.price * BigInt(2 + Math.round(labels() * 28))) / 10_000n;
      const sellFee = (size * sellPrice * FEE_BPS) / (E8 * 10_000n);
      s.position = 0n;
      yield {
        order_id: `${labelHex()}-${labelHex().slice(0, 4)}-4${labelHex().slice(0, 3)}-8${labelHex().slice(0, 3)}-mm${i.toString(16).padStart(10, '0')}`,
        symbol: s.symbol,
        side: 'sell',
        order_time: new Date(Math.min(at + delay, start + (i + 1) * spacing - 1)).toISOString(),
        price: formatScaled(sellPrice, 8),
        size: formatScaled(size, 8),
        fee: formatScaled(sellFee, 8),
        trigger: MARKET_MAKER.trigger,
        source: MARKET_MAKER.source,
      };
    }
  }
}
