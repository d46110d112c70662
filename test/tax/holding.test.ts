/**
 * The holding period by the IRS rule: each rule has its own test. It starts
 * the day after acquisition and the sale date counts; long-term means the sale date falls
 * after the anniversary; February 29 has its anniversary on February 28; dates are calendar
 * dates in the taxpayer's zone, so the year a sale belongs to is the local one, at both ends of
 * the year, west of UTC and east of it.
 */
import { describe, expect, it } from 'vitest';
import {
  anniversary,
  holdingPeriod,
  startOfLocalDay,
  taxPeriod,
  taxRows,
  termOf,
} from '../../shared/tax/index.ts';
import { at, options, slice } from './support.ts';

const date = (text: string) => {
  const [year, month, day] = text.split('-').map(Number);
  return { year: year!, month: month!, day: day! };
};

describe('the holding period', () => {
  it('is short-term when the lot is sold on the anniversary of its acquisition', async () => {
    // Why: "more than one year" excludes the anniversary itself; a lot sold that day is short-term.
    // Prepare
    const bought = at('2025-03-15');
    const sold = at('2026-03-15');

    // Act
    const held = holdingPeriod(bought, sold, 'UTC');

    // Assess
    expect(held).toMatchObject({ daysHeld: 365, term: 'short' });
  });

  it('is long-term when the lot is sold the day after the anniversary', async () => {
    // Why: the first day past the anniversary is the first long-term day.
    // Prepare
    const bought = at('2025-03-15');
    const sold = at('2026-03-16');

    // Act
    const held = holdingPeriod(bought, sold, 'UTC');

    // Assess
    expect(held).toMatchObject({ daysHeld: 366, term: 'long' });
  });

  it('starts the day after acquisition and counts the day of sale', async () => {
    // Why: the days held are the sale date minus the acquisition date: a same-day sale held 0 days.
    // Prepare
    const bought = at('2026-05-01', '00:00:01.000000');

    // Act
    const sameDay = holdingPeriod(bought, at('2026-05-01', '23:59:59.999999'), 'UTC');
    const nextDay = holdingPeriod(bought, at('2026-05-02', '00:00:00.000000'), 'UTC');

    // Assess
    expect(sameDay).toMatchObject({ daysHeld: 0, term: 'short' });
    expect(nextDay).toMatchObject({ daysHeld: 1, term: 'short' });
  });

  it('gives a lot acquired on February 29 its anniversary on February 28', async () => {
    // Why: the next year has no February 29; the holding period runs by calendar months.
    // Prepare
    const acquired = date('2024-02-29');

    // Act
    const theAnniversary = anniversary(acquired);
    const onFeb28 = termOf(acquired, date('2025-02-28'));
    const onMar1 = termOf(acquired, date('2025-03-01'));

    // Assess
    expect(theAnniversary).toEqual(date('2025-02-28'));
    expect(onFeb28).toBe('short');
    expect(onMar1).toBe('long');
  });

  it('counts by calendar year, not by 365 days, across a February 29', async () => {
    // Why: held 366 days from 2027-03-01 to 2028-03-01 is still the anniversary, so short-term.
    // Prepare
    const bought = at('2027-03-01');

    // Act
    const onAnniversary = holdingPeriod(bought, at('2028-03-01'), 'UTC');
    const dayAfter = holdingPeriod(bought, at('2028-03-02'), 'UTC');

    // Assess
    expect(onAnniversary).toMatchObject({ daysHeld: 366, term: 'short' });
    expect(dayAfter).toMatchObject({ daysHeld: 367, term: 'long' });
  });

  it('takes both dates in the taxpayer zone, where the term can differ from UTC', async () => {
    // Why: the dates on the form are the taxpayer's calendar dates, not UTC's.
    // Prepare: bought 22:00 on March 15 in New York (March 16 in UTC), sold on March 16 a year later.
    const bought = at('2025-03-16', '02:00:00.000000');
    const sold = at('2026-03-16');

    // Act
    const newYork = holdingPeriod(bought, sold, 'America/New_York');
    const utc = holdingPeriod(bought, sold, 'UTC');

    // Assess
    expect(newYork).toMatchObject({ acquired: date('2025-03-15'), daysHeld: 366, term: 'long' });
    expect(utc).toMatchObject({ acquired: date('2025-03-16'), daysHeld: 365, term: 'short' });
  });
});

/** The sell order ids of the rows a year keeps, for sales at these instants. */
function keptIn(year: number, timeZone: string, sales: Record<string, string>): string[] {
  const allocations = Object.entries(sales).map(([id, sell]) =>
    slice({ sell_order_id: id, buy: at('2024-06-01'), sell }),
  );
  return taxRows(allocations, options({ year, timeZone })).map((r) => r.sellOrderId);
}

describe('the year a sale belongs to', () => {
  it('west of UTC: December 31 at 23:30 in New York is the old year, though January 1 in UTC', async () => {
    // Why: a late sale west of UTC is what UTC dates get wrong; the year starts at local midnight, 05:00 UTC.
    // Prepare
    const sales = {
      lastOf2025: '2026-01-01T04:30:00.000000Z', // 23:30 EST on Dec 31
      lastMicrosecondOf2025: '2026-01-01T04:59:59.999999Z',
      firstOf2026: '2026-01-01T05:00:00.000000Z', // 00:00 EST on Jan 1
    };

    // Act
    const in2025 = keptIn(2025, 'America/New_York', sales);
    const in2026 = keptIn(2026, 'America/New_York', sales);

    // Assess
    expect(in2025).toEqual(['lastOf2025', 'lastMicrosecondOf2025']);
    expect(in2026).toEqual(['firstOf2026']);
    expect(taxPeriod(2026, 'America/New_York')).toMatchObject({
      startUtc: '2026-01-01T05:00:00.000Z',
      endUtc: '2027-01-01T05:00:00.000Z',
    });
  });

  it('west of UTC: the end of the year is local midnight on December 31, 05:00 UTC on January 1', async () => {
    // Why: the other boundary of the same year, so no sale is in two years or in none.
    // Prepare
    const sales = {
      last: '2027-01-01T04:59:59.999999Z',
      next: '2027-01-01T05:00:00.000000Z',
    };

    // Act
    const in2026 = keptIn(2026, 'America/New_York', sales);
    const in2027 = keptIn(2027, 'America/New_York', sales);

    // Assess
    expect(in2026).toEqual(['last']);
    expect(in2027).toEqual(['next']);
  });

  it('east of UTC: January 1 at 00:00 in Tokyo is the new year, though December 31 in UTC', async () => {
    // Why: east of UTC the local year starts before the UTC one, at 15:00 UTC on December 31.
    // Prepare
    const sales = {
      lastOf2025: '2025-12-31T14:59:59.999999Z',
      firstOf2026: '2025-12-31T15:00:00.000000Z',
    };

    // Act
    const in2025 = keptIn(2025, 'Asia/Tokyo', sales);
    const in2026 = keptIn(2026, 'Asia/Tokyo', sales);

    // Assess
    expect(in2025).toEqual(['lastOf2025']);
    expect(in2026).toEqual(['firstOf2026']);
    expect(taxPeriod(2026, 'Asia/Tokyo')).toMatchObject({
      startUtc: '2025-12-31T15:00:00.000Z',
      endUtc: '2026-12-31T15:00:00.000Z',
    });
  });

  it('east of UTC: the end of the year in Tokyo is 15:00 UTC on December 31', async () => {
    // Why: a sale on the evening of December 31 in UTC is already next year in Tokyo.
    // Prepare
    const sales = {
      last: '2026-12-31T14:59:59.999999Z',
      next: '2026-12-31T15:00:00.000000Z',
    };

    // Act
    const in2026 = keptIn(2026, 'Asia/Tokyo', sales);
    const in2027 = keptIn(2027, 'Asia/Tokyo', sales);

    // Assess
    expect(in2026).toEqual(['last']);
    expect(in2027).toEqual(['next']);
  });

  it('finds the first instant of a local day that starts at 01:00 after a DST jump', async () => {
    // Why: Chile moves its clocks at midnight; the day (and a year, in such a zone) starts at 01:00.
    // Prepare
    const day = date('2024-09-08');

    // Act
    const start = startOfLocalDay(day, 'America/Santiago');

    // Assess
    expect(start.toISOString()).toBe('2024-09-08T04:00:00.000Z');
  });
});
