/**
 * The Form 8949 box: G, H, I short-term and J, K, L long-term, by what the
 * broker reported on Form 1099-DA. The custodial default: 2025 proceeds only; from 2026 basis
 * reported for lots acquired from 2026-01-01 and proceeds only for older lots; `none` for a
 * non-custodial setup.
 */
import { describe, expect, it } from 'vitest';
import { type BrokerReporting, form8949Box, taxRow } from '../../shared/tax/index.ts';
import { at, options, slice } from './support.ts';

const d = (year: number, month: number, day: number) => ({ year, month, day });

describe('the box', () => {
  it('custodial, sales in 2025: proceeds only, H short and K long, whenever the lot was bought', async () => {
    // Why: a 1099-DA for 2025 reports gross proceeds only.
    // Prepare
    const box = (term: 'short' | 'long', acquired: ReturnType<typeof d>) =>
      form8949Box(term, 'custodial', 2025, acquired);

    // Act
    const boxes = [box('short', d(2025, 3, 1)), box('long', d(2023, 3, 1))];

    // Assess
    expect(boxes).toEqual(['H', 'K']);
  });

  it('custodial, sales from 2026: basis reported (G, J) for lots from 2026-01-01, proceeds only (H, K) before', async () => {
    // Why: brokers report basis only for digital assets acquired from 2026 on (covered).
    // Prepare
    const box = (term: 'short' | 'long', year: number, acquired: ReturnType<typeof d>) =>
      form8949Box(term, 'custodial', year, acquired);

    // Act
    const boxes = {
      coveredShort: box('short', 2026, d(2026, 1, 1)),
      olderShort: box('short', 2026, d(2025, 12, 31)),
      coveredLong: box('long', 2027, d(2026, 1, 1)),
      olderLong: box('long', 2027, d(2025, 12, 31)),
    };

    // Assess
    expect(boxes).toEqual({ coveredShort: 'G', olderShort: 'H', coveredLong: 'J', olderLong: 'K' });
  });

  it('follows --broker-reporting none, basis and proceeds whatever the dates', async () => {
    // Why: a non-custodial setup receives no 1099-DA (I, L); the others override the default.
    // Prepare
    const modes: BrokerReporting[] = ['none', 'basis', 'proceeds'];

    // Act
    const boxes = modes.map((m) => [
      form8949Box('short', m, 2026, d(2025, 6, 1)),
      form8949Box('long', m, 2026, d(2024, 6, 1)),
    ]);

    // Assess
    expect(boxes).toEqual([
      ['I', 'L'],
      ['G', 'J'],
      ['H', 'K'],
    ]);
  });

  it('uses boxes A to F before 2025, C and F for a custodial exchange', async () => {
    // Why: the form had no digital-asset boxes before 2025, and no 1099-DA existed.
    // Prepare
    const year = 2024;

    // Act
    const custodial = [
      form8949Box('short', 'custodial', year, null),
      form8949Box('long', 'custodial', year, null),
    ];
    const basis = [form8949Box('short', 'basis', year, null), form8949Box('long', 'basis', year, null)];

    // Assess
    expect(custodial).toEqual(['C', 'F']);
    expect(basis).toEqual(['A', 'D']);
  });

  it('decides whether a lot is covered by its acquisition date in the taxpayer zone', async () => {
    // Why: a buy at 03:00 UTC on 2026-01-01 was made on December 31, 2025 in New York.
    // Prepare
    const allocation = slice({ buy: '2026-01-01T03:00:00.000000Z', sell: at('2026-06-01') });

    // Act
    const newYork = taxRow(allocation, options({ timeZone: 'America/New_York' }));
    const utc = taxRow(allocation, options({ timeZone: 'UTC' }));

    // Assess
    expect(newYork).toMatchObject({ box: 'H', term: 'short' });
    expect(utc).toMatchObject({ box: 'G', term: 'short' });
  });
});
