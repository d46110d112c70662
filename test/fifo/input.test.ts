// The validating edge of the engine: trade rows, times and decimal text.
import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalTime,
  divHalfEven,
  formatScaled,
  MAX_ORDER_ID_BYTES,
  MAX_SYMBOL_BYTES,
  NumberFormatError,
  parsePlain,
  parseScaled,
  parseTrades,
  type RawTrade,
  TimeFormatError,
} from '../../shared/fifo/index.ts';
import { buy, Exact, sell } from './arbitraries.ts';

const label = (i: number) => `trade ${i + 1}`;
const good = buy('b1', '2024-01-01T00:00:00Z', '1', '100', '0.1');

// parseTrades reports every bad row once, by row and order_id, and returns nothing partial.
describe('parseTrades', () => {
  it('accepts valid rows and normalises side and fee', () => {
    // Prepare
    const rows: RawTrade[] = [
      good,
      { ...sell('s1', '2024-01-01 01:00:00+01:00', '0.5', '110', null), side: ' SELL ' },
      { ...sell('s2', '2024-01-02T00:00:00Z', '0.5', '110', ''), side: 'Sell' },
    ];

    // Act
    const { trades, errors } = parseTrades(rows, label);

    // Assess
    expect(errors).toEqual([]);
    expect(trades.map((t) => [t.orderId, t.side, t.time, t.fee])).toEqual([
      ['b1', 'buy', '2024-01-01T00:00:00.000000Z', parseScaled('0.1')],
      ['s1', 'sell', '2024-01-01T00:00:00.000000Z', 0n],
      ['s2', 'sell', '2024-01-02T00:00:00.000000Z', 0n],
    ]);
  });

  it.each<[string, RawTrade, string]>([
    [
      'a missing price',
      { ...sell('s1', '2024-01-02T00:00:00Z', '1', '1'), price: undefined },
      'missing field price',
    ],
    [
      'a missing symbol',
      omit(sell('s1', '2024-01-02T00:00:00Z', '1', '1'), 'symbol'),
      'missing field symbol',
    ],
    ['an empty symbol', sell('s1', '2024-01-02T00:00:00Z', '1', '1', '0', ' '), 'symbol is empty'],
    [
      'a non-numeric size',
      sell('s1', '2024-01-02T00:00:00Z', 'abc', '1'),
      'size "abc" is not a decimal number',
    ],
    ['a zero size', sell('s1', '2024-01-02T00:00:00Z', '0', '1'), 'size must be greater than zero, got "0"'],
    [
      'a negative size',
      sell('s1', '2024-01-02T00:00:00Z', '-1', '1'),
      'size must be greater than zero, got "-1"',
    ],
    [
      'a zero price',
      sell('s1', '2024-01-02T00:00:00Z', '1', '0.0'),
      'price must be greater than zero, got "0.0"',
    ],
    ['a negative price', sell('s1', '2024-01-02T00:00:00Z', '1', '-2'), 'price must be greater than zero'],
    ['a NaN size', sell('s1', '2024-01-02T00:00:00Z', 'NaN', '1'), 'size "NaN" is not a decimal number'],
    [
      'an Infinity price',
      sell('s1', '2024-01-02T00:00:00Z', '1', 'Infinity'),
      'price "Infinity" is not a decimal',
    ],
    [
      'a -Infinity fee',
      sell('s1', '2024-01-02T00:00:00Z', '1', '1', '-Infinity'),
      'fee "-Infinity" is not a decimal',
    ],
    ['a hex size', sell('s1', '2024-01-02T00:00:00Z', '0x10', '1'), 'size "0x10" is not a decimal number'],
    ['a comma decimal', sell('s1', '2024-01-02T00:00:00Z', '1,5', '1'), 'size "1,5" is not a decimal number'],
    [
      'too many decimals',
      sell('s1', '2024-01-02T00:00:00Z', `0.${'0'.repeat(30)}1`, '1'),
      'more than 30 decimal places',
    ],
    [
      'a negative fee',
      sell('s1', '2024-01-02T00:00:00Z', '1', '1', '-0.01'),
      'fee must be zero or more, got "-0.01"',
    ],
    [
      'an unknown side',
      { ...sell('s1', '2024-01-02T00:00:00Z', '1', '1'), side: 'short' },
      'side must be buy or sell, got "short"',
    ],
    [
      'an unparseable time',
      sell('s1', 'yesterday', '1', '1'),
      'order_time "yesterday" is not an ISO-8601 time',
    ],
    ['an impossible date', sell('s1', '2024-02-30T00:00:00Z', '1', '1'), 'is not a valid calendar time'],
    [
      'a duplicate order_id',
      sell('b1', '2024-01-02T00:00:00Z', '1', '1'),
      'duplicate order_id, first seen at trade 1',
    ],
    [
      'a JSON number price',
      { ...sell('s1', '2024-01-02T00:00:00Z', '1', '1'), price: 101.5 },
      'price must be a decimal string, not the JSON number 101.5',
    ],
    [
      'a JSON number size',
      { ...sell('s1', '2024-01-02T00:00:00Z', '1', '1'), size: 1 },
      'size must be a decimal string, not the JSON number 1',
    ],
    [
      'a boolean fee',
      { ...sell('s1', '2024-01-02T00:00:00Z', '1', '1'), fee: false },
      'fee must be a string',
    ],
  ])('rejects %s with one message naming the row and order_id', (_, bad, problem) => {
    // Prepare
    const rows = [good, bad];

    // Act
    const { trades, errors } = parseTrades(rows, label);

    // Assess
    expect(trades).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^trade 2 \\(order_id ${bad.order_id}\\): `));
    expect(errors[0]).toContain(problem);
  });

  it('rejects order ids and symbols that cannot be keys: too long, or with a NUL', () => {
    // Why: a 1.5 KB id pair overflowed the allocations' btree key and stopped every run.
    // Prepare
    const rows = [
      { ...good, order_id: 'o'.repeat(MAX_ORDER_ID_BYTES + 1) },
      { ...good, order_id: 'é'.repeat(MAX_ORDER_ID_BYTES / 2) },
      { ...good, order_id: 'nul\u0000id' },
      { ...good, order_id: 's1', symbol: 'S'.repeat(MAX_SYMBOL_BYTES + 1) },
      { ...good, order_id: 'fits', symbol: 'S'.repeat(MAX_SYMBOL_BYTES) },
    ];

    // Act
    const { errors } = parseTrades(rows, label);

    // Assess: bytes, not characters (é is two in UTF-8); the widest allowed still fits
    expect(errors.map((e) => e.replace(/ \(order_id [^)]*\)/, ''))).toEqual([
      `trade 1: order_id is 513 bytes long; the limit is ${MAX_ORDER_ID_BYTES}`,
      'trade 3: order_id contains a NUL character',
      `trade 4: symbol is 129 bytes long; the limit is ${MAX_SYMBOL_BYTES}`,
    ]);
  });

  it('names a row without order_id by its position', () => {
    // Prepare
    const rows = [good, omit(sell('s1', '2024-01-02T00:00:00Z', '1', '1'), 'order_id')];

    // Act
    const { errors } = parseTrades(rows, label);

    // Assess
    expect(errors).toEqual(['trade 2: missing field order_id']);
  });

  it('gives one message per bad row, listing all of its problems', () => {
    // Prepare
    const rows: RawTrade[] = [
      { ...sell('s1', 'soon', '0', 'x'), side: 'hold' },
      good,
      sell('s2', '2024-01-02T00:00:00Z', '1', '1', '-1'),
    ];

    // Act
    const { trades, errors } = parseTrades(rows, (i) => `line ${i + 2}`);

    // Assess
    expect(trades).toEqual([]);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(
      /^line 2 \(order_id s1\): side must be buy or sell.*; order_time .*; price .*; size /,
    );
    expect(errors[1]).toMatch(/^line 4 \(order_id s2\): fee must be zero or more/);
  });
});

// canonicalTime turns every accepted ISO-8601 form into one fixed-width UTC text that sorts by time.
describe('canonicalTime', () => {
  it.each([
    ['2024-11-05T14:03:07Z', '2024-11-05T14:03:07.000000Z'],
    ['2024-11-05T14:03:07z', '2024-11-05T14:03:07.000000Z'],
    ['2024-11-05 16:03:07+02:00', '2024-11-05T14:03:07.000000Z'],
    ['2024-11-05T08:33:07-0530', '2024-11-05T14:03:07.000000Z'],
    ['2024-11-05T19:03:07+05', '2024-11-05T14:03:07.000000Z'],
    ['2024-11-05T14:03:07', '2024-11-05T14:03:07.000000Z'],
    ['2024-11-05T14:03Z', '2024-11-05T14:03:00.000000Z'],
    ['2024-11-05', '2024-11-05T00:00:00.000000Z'],
    ['  2024-11-05T14:03:07Z  ', '2024-11-05T14:03:07.000000Z'],
    ['2024-11-05T14:03:07.5Z', '2024-11-05T14:03:07.500000Z'],
    ['2024-11-05T14:03:07,25Z', '2024-11-05T14:03:07.250000Z'],
    ['2024-11-05T14:03:07.123456Z', '2024-11-05T14:03:07.123456Z'],
    ['2024-11-05T14:03:07.1234560Z', '2024-11-05T14:03:07.123456Z'],
    ['2024-01-01T00:30:00+01:00', '2023-12-31T23:30:00.000000Z'],
    ['2024-02-29T12:00:00Z', '2024-02-29T12:00:00.000000Z'],
    ['0050-03-01T00:00:00Z', '0050-03-01T00:00:00.000000Z'],
    ['0000-12-31T23:00:00-02:00', '0001-01-01T01:00:00.000000Z'],
    ['9999-12-31T23:59:59.999999Z', '9999-12-31T23:59:59.999999Z'],
  ])('reads %s as %s', (text, canonical) => {
    // Prepare
    const input = text;

    // Act
    const time = canonicalTime(input);

    // Assess
    expect(time).toBe(canonical);
  });

  // Anything that is not one real instant in 0001-9999 is rejected, never guessed.
  it.each([
    ['', 'not ISO'],
    ['yesterday', 'not ISO'],
    ['1700000000', 'not ISO'],
    ['2024-1-5', 'not ISO'],
    ['2024-11-05T14:03:07ZZ', 'not ISO'],
    ['2024-11-05T14:03:07.1234567Z', 'sub-microsecond'],
    ['2024-02-30T00:00:00Z', 'no such day'],
    ['2023-02-29T00:00:00Z', 'no leap day'],
    ['2024-13-01T00:00:00Z', 'no such month'],
    ['2024-11-05T24:00:00Z', 'hour 24'],
    ['2024-11-05T12:60:00Z', 'minute 60'],
    ['2024-12-31T23:59:60Z', 'leap second'],
    ['2024-11-05T12:00:00+24:00', 'offset hours'],
    ['2024-11-05T12:00:00+01:60', 'offset minutes'],
    ['9999-12-31T23:00:00-02:00', 'after 9999'],
    ['0000-06-01T00:00:00Z', 'before 0001'],
  ])('rejects %s (%s)', (text) => {
    // Prepare
    const input = text;

    // Act
    const parse = () => canonicalTime(input);

    // Assess
    expect(parse).toThrow(TimeFormatError);
  });

  it('reads "YYYY-MM-DDTHH:MM:SS[.f]Z" without the general parser exactly as the general parser does', () => {
    // Why: that form, which most files use, skips the regex and Date; a day or a digit read
    // differently there would move a trade in FIFO order.
    // Prepare: fields near and past their limits; a leading space sends the same text through
    // the general parser, which trims it.
    const two = (values: number[]) =>
      fc
        .oneof(fc.constantFrom(...values), fc.integer({ min: 0, max: 99 }))
        .map((n) => String(n).padStart(2, '0'));
    const time = fc
      .record({
        year: fc
          .oneof(fc.constantFrom(0, 1, 1900, 2000, 2023, 2024, 2100, 9999), fc.integer({ min: 0, max: 9999 }))
          .map((n) => String(n).padStart(4, '0')),
        month: two([0, 1, 2, 12, 13]),
        day: two([0, 28, 29, 30, 31, 32]),
        hour: two([0, 23, 24]),
        minute: two([0, 59, 60]),
        second: two([0, 59, 60]),
        fraction: fc.constantFrom('', '.', '.5', '.123', '.123456', '.1234560', '.1234567', '.12a'),
        zone: fc.constantFrom('Z', 'z', ''),
      })
      .map((t) => `${t.year}-${t.month}-${t.day}T${t.hour}:${t.minute}:${t.second}${t.fraction}${t.zone}`);
    const outcome = (text: string) => {
      try {
        return canonicalTime(text);
      } catch (error) {
        return error instanceof TimeFormatError ? 'rejected' : 'other error';
      }
    };

    fc.assert(
      fc.property(time, (text) => {
        // Act
        const fast = outcome(text);

        // Assess
        expect(fast).toBe(outcome(` ${text}`));
      }),
      { numRuns: 5_000 },
    );
  });
});

// parseScaled is the only way text becomes a quantity: exact, or rejected.
describe('parseScaled', () => {
  it.each([
    ['12.5', 30, 125n * 10n ** 29n],
    ['.5', 30, 5n * 10n ** 29n],
    ['5.', 30, 5n * 10n ** 30n],
    ['+5', 30, 5n * 10n ** 30n],
    [' 7 ', 30, 7n * 10n ** 30n],
    ['-1.5', 30, -15n * 10n ** 29n],
    ['0.10', 30, 10n ** 29n],
    ['1e-30', 30, 1n],
    ['1E3', 30, 1000n * 10n ** 30n],
    ['2.5e-7', 8, 25n],
    ['1.5', 8, 150_000_000n],
    ['1.000000000000000000000000000000000', 30, 10n ** 30n],
    ['0', 30, 0n],
  ])('reads %s at scale %i as %s', (text, scale, value) => {
    // Prepare
    const input = text;

    // Act
    const parsed = parseScaled(input, scale);

    // Assess
    expect(parsed).toBe(value);
  });

  it.each([
    ['', 30],
    ['  ', 30],
    ['abc', 30],
    ['NaN', 30],
    ['Infinity', 30],
    ['-Infinity', 30],
    ['0x1A', 30],
    ['0b101', 30],
    ['1_000', 30],
    ['1,5', 30],
    ['1.2.3', 30],
    ['--1', 30],
    ['1e', 30],
    ['1e-31', 30],
    [`0.${'0'.repeat(30)}1`, 30],
    ['1.005', 2],
  ])('rejects "%s" at scale %i', (text, scale) => {
    // Prepare
    const input = text;

    // Act
    const parse = () => parseScaled(input, scale);

    // Assess
    expect(parse).toThrow(NumberFormatError);
  });

  // Outside the plain "123.45" fast path, values longer than decimal.js's default precision of
  // 20 significant digits must still be read exactly: "more is rejected, never rounded" (rule 5).
  it.each([
    ['+1234.567890123456789012', 1234567890123456789012n * 10n ** 12n],
    ['-1234.567890123456789012', -1234567890123456789012n * 10n ** 12n],
    [' 0.123456789012345678901234', 123456789012345678901234n * 10n ** 6n],
    ['1234567890123456789012e-18', 1234567890123456789012n * 10n ** 12n],
  ])('reads "%s" (more than 20 significant digits) exactly', (text, value) => {
    // Prepare
    const input = text;

    // Act
    const parsed = parseScaled(input);

    // Assess
    expect(parsed).toBe(value);
  });
});

// The plain path reads most numbers of a rebuild; it must agree with the general one exactly.
describe('parsePlain', () => {
  it('equals the decimal.js path for any plain decimal at any scale', () => {
    // Why: the plain path takes a shortcut through a double for short inputs; one wrong
    // digit there would be a wrong amount everywhere.
    // Prepare
    const plainDecimal = fc.record({
      whole: fc.stringMatching(/^\d{1,25}$/),
      fraction: fc.option(fc.stringMatching(/^\d{1,30}$/), { nil: undefined }),
      scale: fc.integer({ min: 0, max: 30 }),
    });

    fc.assert(
      fc.property(plainDecimal, ({ whole, fraction, scale }) => {
        const text = fraction === undefined ? whole : `${whole}.${fraction}`;
        const tooPrecise = (fraction?.length ?? 0) > scale;

        // Act
        const plain = parsePlain(text, scale);

        // Assess: a leading space sends the same text through decimal.js. More places than
        // the scale are left to it (trailing zeros may still fit).
        if (tooPrecise) {
          expect(plain).toBeNull();
        } else {
          expect(plain).toBe(BigInt(whole + (fraction ?? '').padEnd(scale, '0')));
          expect(plain).toBe(parseScaled(` ${text}`, scale));
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it.each(['', '.5', '5.', '1.2.3', '+1', '-1', ' 1', '1e5', '١'])(
    'leaves "%s" to the general path',
    (text) => {
      // Why: anything but digits with one inner point must go through full validation.
      // Prepare
      const input = text;

      // Act
      const plain = parsePlain(input, 30);

      // Assess
      expect(plain).toBeNull();
    },
  );
});

// formatScaled is the canonical text of every stored number: no exponent, no trailing zeros.
describe('formatScaled', () => {
  it.each([
    [0n, 8, '0'],
    [1n, 30, `0.${'0'.repeat(29)}1`],
    [-1n, 8, '-0.00000001'],
    [150_000_000n, 8, '1.5'],
    [100_000_000n, 8, '1'],
    [-250_000_000n, 8, '-2.5'],
    [12_345n, 0, '12345'],
    [10n ** 40n, 8, `1${'0'.repeat(32)}`],
  ])('formats %s at scale %i as %s', (value, scale, text) => {
    // Prepare
    const input = value;

    // Act
    const formatted = formatScaled(input, scale);

    // Assess
    expect(formatted).toBe(text);
  });

  // Text written by formatScaled reads back to the same value (up to 20 digits: see the BUG above).
  it('round-trips through parseScaled', () => {
    fc.assert(
      fc.property(
        fc.bigInt(-(10n ** 20n) + 1n, 10n ** 20n - 1n),
        fc.integer({ min: 0, max: 30 }),
        (value, scale) => {
          // Prepare
          const text = formatScaled(value, scale);

          // Act
          const back = parseScaled(text, scale);

          // Assess
          expect(back).toBe(value);
          expect(text).not.toMatch(/e|\.\d*0$/i);
        },
      ),
      { numRuns: 200 },
    );
  });
});

// divHalfEven is every USD rounding in the engine: half to even, both signs.
describe('divHalfEven', () => {
  it.each([
    [5n, 2n, 2n],
    [7n, 2n, 4n],
    [-5n, 2n, -2n],
    [-7n, 2n, -4n],
    [25n, 10n, 2n],
    [35n, 10n, 4n],
    [26n, 10n, 3n],
    [-26n, 10n, -3n],
    [1n, 3n, 0n],
    [2n, 3n, 1n],
    [-1n, 3n, 0n],
    [-2n, 3n, -1n],
    [6n, 3n, 2n],
    [0n, 5n, 0n],
  ])('divides %s by %s to %s', (n, d, q) => {
    // Prepare
    const args = [n, d] as const;

    // Act
    const quotient = divHalfEven(...args);

    // Assess
    expect(quotient).toBe(q);
  });

  it('agrees with decimal.js half-even rounding', () => {
    fc.assert(
      fc.property(fc.bigInt(-(10n ** 30n), 10n ** 30n), fc.bigInt(1n, 10n ** 12n), (n, d) => {
        // Prepare
        const reference = new Exact(n.toString())
          .div(d.toString())
          .toDecimalPlaces(0, Decimal.ROUND_HALF_EVEN);

        // Act
        const quotient = divHalfEven(n, d);

        // Assess
        expect(quotient.toString()).toBe(reference.toFixed(0));
      }),
      { numRuns: 200 },
    );
  });
});

function omit(row: RawTrade, field: string): RawTrade {
  const copy = { ...row };
  delete copy[field];
  return copy;
}
