/**
 * Form 8949 rows and their totals: one row per slice with columns
 * (a) to (h) and the audit columns; exact totals per box and term; unmatched sells flagged
 * MISSING BASIS and kept out of the gain totals, or reported at zero basis with the note in
 * column (f); the CSV neutralises spreadsheet formulas in its text columns.
 */
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import {
  buildTaxReport,
  formatAmount,
  renderTaxCsv,
  renderTotalsText,
  TAX_CSV_COLUMNS,
  taxCsvRecord,
  taxRows,
  taxTotals,
  ZERO_BASIS_NOTE,
} from '../../shared/tax/index.ts';
import { at, options, slice } from './support.ts';

describe('a row', () => {
  it('carries columns (a) to (h) and the audit columns of its slice', async () => {
    // Why: each allocation is one Form 8949 line, and the audit columns trace it back to the ledger.
    // Prepare
    const allocation = slice({
      sell_order_id: 's-42',
      buy_order_id: 'b-7',
      allocated_size: '0.5',
      cost_basis_usd: '20502',
      proceeds_usd: '21000',
      net_proceeds_usd: '20998',
      buy: '2025-01-02T09:00:00.000000Z',
      sell: '2026-01-03T09:00:00.000000Z',
    });

    // Act
    const [row] = taxRows([allocation], options());
    const record = taxCsvRecord(row!);

    // Assess
    expect(record).toEqual({
      a_description: '0.50000000 BTC',
      b_date_acquired: '01/02/2025',
      c_date_sold: '01/03/2026',
      d_proceeds: '20998',
      e_cost_basis: '20502',
      f_code: '',
      g_adjustment: '',
      h_gain: '496',
      flag: '',
      sell_order_id: 's-42',
      buy_order_id: 'b-7',
      acquired_utc: '2025-01-02T09:00:00.000000Z',
      sold_utc: '2026-01-03T09:00:00.000000Z',
      days_held: '366',
      term: 'long',
      box: 'K',
      explain: 'fifo explain s-42 --version 1',
    });
  });

  it('describes the size with every exact digit, at least 8 places, and the base asset', async () => {
    // Why: (a) must never round the size; 0.123456789 BTC is not 0.12345679 BTC.
    // Prepare
    const allocations = [
      slice({ buy: at('2026-01-01'), sell: at('2026-02-01'), allocated_size: '0.123456789' }),
      slice({ buy: at('2026-01-01'), sell: at('2026-02-01'), allocated_size: '33395', symbol: 'TOSHI-USD' }),
    ];

    // Act
    const rows = taxRows(allocations, options()).map((r) => taxCsvRecord(r).a_description);

    // Assess
    expect(rows).toEqual(['0.123456789 BTC', '33395.00000000 TOSHI']);
  });

  it('is one per allocation sold in the year, in the allocations order, none merged', async () => {
    // Why: the rows must equal the allocations one for one, so every number can be explained.
    // Prepare
    const allocations = [
      slice({ sell_order_id: 's1', buy_order_id: 'b1', buy: at('2026-01-01'), sell: at('2026-02-01') }),
      slice({ sell_order_id: 's1', buy_order_id: 'b2', buy: at('2026-01-02'), sell: at('2026-02-01') }),
      slice({ sell_order_id: 's2', buy: null, sell: at('2026-03-01') }),
      slice({ sell_order_id: 's3', buy_order_id: 'b3', buy: at('2026-01-01'), sell: at('2027-01-01') }),
    ];

    // Act
    const rows = taxRows(allocations, options({ year: 2026 }));

    // Assess
    expect(rows.map((r) => [r.sellOrderId, r.buyOrderId])).toEqual([
      ['s1', 'b1'],
      ['s1', 'b2'],
      ['s2', null],
    ]);
  });
});

describe('an unmatched sell', () => {
  const allocations = [
    slice({ sell_order_id: 's1', buy: at('2026-01-01'), sell: at('2026-02-01'), cost: '100', net: '110' }),
    slice({ sell_order_id: 'u1', buy: null, sell: at('2026-03-01'), net: '7799.22' }),
  ];

  it('is a row flagged MISSING BASIS with an empty basis, left out of the gain totals', async () => {
    // Why: a sell with no lot must never be dropped or silently given a basis of 0.
    // Prepare
    // (a matched slice with a gain of 10 and an unmatched one with net proceeds 7799.22)

    // Act
    const report = buildTaxReport(allocations, options());
    const record = taxCsvRecord(report.rows[1]!);

    // Assess
    expect(record).toMatchObject({
      b_date_acquired: '',
      e_cost_basis: '',
      h_gain: '',
      flag: 'MISSING BASIS',
      term: '',
      box: '',
      explain: 'fifo explain u1 --version 1',
    });
    expect(formatAmount(report.totals.all.gain)).toBe('10');
    expect(report.totals.all.rows).toBe(1);
    expect(report.totals.missingBasis).toMatchObject({ rows: 1, sells: 1, inBoxTotals: false });
    expect(formatAmount(report.totals.missingBasis.proceeds)).toBe('7799.22');
    expect(renderTotalsText(report)).toContain('  fifo explain u1 --version 1\n');
  });

  it('with zero-basis is reported at a basis of 0, short-term, with the note in column (f)', async () => {
    // Why: an operator who chooses it gets the conservative reading, and the row says so.
    // Prepare
    const zero = options({ unmatched: 'zero-basis' });

    // Act
    const report = buildTaxReport(allocations, zero);
    const record = taxCsvRecord(report.rows[1]!);

    // Assess
    expect(record).toMatchObject({
      e_cost_basis: '0',
      f_code: ZERO_BASIS_NOTE,
      h_gain: '7799.22',
      flag: 'MISSING BASIS',
      term: 'short',
      box: 'H',
    });
    expect(formatAmount(report.totals.all.gain)).toBe('7809.22');
    expect(report.totals.missingBasis).toMatchObject({ rows: 1, inBoxTotals: true });
  });
});

describe('the totals', () => {
  it('are exact per box, per term and in all', async () => {
    // Why: the figures go to Schedule D; sums of 8-decimal amounts must not drift like floats.
    // Prepare: three short-term slices of 0.1, 0.2 and 0.3 cents' worth, one long-term loss.
    const allocations = [
      slice({ buy: at('2026-01-01'), sell: at('2026-02-01'), cost: '0.10000001', net: '0.2' }),
      slice({ buy: at('2026-01-01'), sell: at('2026-02-01'), cost: '0.20000002', net: '0.3' }),
      slice({ buy: at('2026-01-02'), sell: at('2026-02-01'), cost: '0.30000003', net: '0.1' }),
      slice({ buy: at('2024-06-01'), sell: at('2026-02-01'), cost: '1000.5', net: '999.12345678' }),
    ];

    // Act
    const totals = taxTotals(taxRows(allocations, options()));

    // Assess
    const text = (t: (typeof totals)['all']) => ({
      rows: t.rows,
      proceeds: formatAmount(t.proceeds),
      basis: formatAmount(t.costBasis),
      gain: formatAmount(t.gain),
    });
    expect(totals.byBox.map((b) => [b.box, text(b)])).toEqual([
      ['G', { rows: 3, proceeds: '0.6', basis: '0.60000006', gain: '-0.00000006' }],
      ['K', { rows: 1, proceeds: '999.12345678', basis: '1000.5', gain: '-1.37654322' }],
    ]);
    expect(text(totals.byTerm.short)).toEqual(text(totals.byBox[0]!));
    expect(text(totals.byTerm.long)).toEqual(text(totals.byBox[1]!));
    expect(text(totals.all)).toEqual({
      rows: 4,
      proceeds: '999.72345678',
      basis: '1001.10000006',
      gain: '-1.37654328',
    });
  });
});

describe('the CSV', () => {
  it('neutralises spreadsheet formulas in text columns and leaves negative amounts numbers', async () => {
    // Why: an order id like =HYPERLINK(...) must not run when the operator opens the file.
    // Prepare
    const allocations = [
      slice({
        sell_order_id: '=HYPERLINK("http://x")',
        buy_order_id: '@SUM(A1)',
        buy: at('2026-01-01'),
        sell: at('2026-02-01'),
        cost: '120',
        net: '110',
      }),
    ];

    // Act
    const csv = renderTaxCsv(buildTaxReport(allocations, options()));
    const [header, line] = parse(csv) as string[][];

    // Assess
    const cell = (name: string) => line![header!.indexOf(name)];
    expect(header).toEqual([...TAX_CSV_COLUMNS]);
    expect(cell('sell_order_id')).toBe(`'=HYPERLINK("http://x")`);
    expect(cell('buy_order_id')).toBe("'@SUM(A1)");
    expect(cell('explain')).toBe(`fifo explain '=HYPERLINK("http://x")' --version 1`);
    expect(cell('h_gain')).toBe('-10');
  });
});
