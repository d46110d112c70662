/**
 * Reconciliation with the broker's Form 1099-DA: the broker's CSV read
 * exactly, with a column mapping for other headers and one clear line naming the file, line and
 * column on bad input; matched to fifo-ledger's sells by asset and day, by quantity where it
 * can; the lists of what matches nothing and the per-day differences; the report unchanged.
 */
import { describe, expect, it } from 'vitest';
import {
  buildTaxReport,
  formatAmount,
  parseBrokerCsv,
  parseColumnMapping,
  renderReconciliationText,
  renderTaxCsv,
  renderTotalsCsv,
} from '../../shared/tax/index.ts';
import { at, options, slice } from './support.ts';

const file = '--broker-csv broker.csv';

describe("the broker's CSV", () => {
  it('is read exactly under the usual headers, dollar signs, separators and US dates included', async () => {
    // Why: a 1099-DA export prints amounts for people; their exact value must survive.
    // Prepare
    const text =
      'Date Sold,Asset,Quantity,Gross Proceeds,Cost Basis\n' +
      '03/02/2026,BTC,0.5,"$21,000.10",\n' +
      '2026-03-03,eth-usd,1.25,(1.50),"$4,000"\n';

    // Act
    const rows = parseBrokerCsv(text, { file, timeZone: 'UTC' });

    // Assess
    expect(
      rows.map((r) => ({
        line: r.line,
        sold: r.sold,
        asset: r.asset,
        quantity: r.quantity,
        proceeds: formatAmount(r.proceeds),
        basis: r.costBasis === null ? null : formatAmount(r.costBasis),
      })),
    ).toEqual([
      {
        line: 2,
        sold: { year: 2026, month: 3, day: 2 },
        asset: 'BTC',
        quantity: 5n * 10n ** 29n,
        proceeds: '21000.1',
        basis: null,
      },
      {
        line: 3,
        sold: { year: 2026, month: 3, day: 3 },
        asset: 'ETH',
        quantity: 125n * 10n ** 28n,
        proceeds: '-1.5',
        basis: '4000',
      },
    ]);
  });

  it('takes other headers through --broker-columns, and a time to its date in the zone', async () => {
    // Why: every broker names its columns differently; a time in UTC may be the day before in New York.
    // Prepare
    const text = 'When,Coin,Units,Amount USD\n2026-03-02T03:00:00Z,BTC,1,100\n';
    const columns = parseColumnMapping(['date_sold=When,asset=Coin', 'quantity=Units,proceeds=Amount USD']);

    // Act
    const [row] = parseBrokerCsv(text, { file, timeZone: 'America/New_York', columns });

    // Assess
    expect(row).toMatchObject({ sold: { year: 2026, month: 3, day: 1 }, asset: 'BTC' });
  });

  it('is refused with one line naming the file, the line and the column of a bad value', async () => {
    // Why: the operator must find the bad cell without reading a stack trace.
    // Prepare
    const text = 'date_sold,asset,quantity,proceeds\n2026-03-02,BTC,1,100\n2026-03-02,BTC,1,abc\n';

    // Act
    const read = () => parseBrokerCsv(text, { file, timeZone: 'UTC' });

    // Assess
    expect(read).toThrow(
      '--broker-csv broker.csv line 3, proceeds ("proceeds"): "abc" is not a decimal number',
    );
  });

  it('is refused when a required column is missing, saying how to map it', async () => {
    // Why: a header the reader does not know must not become silent zeros.
    // Prepare
    const text = 'date_sold,asset,qty,proceeds\n2026-03-02,BTC,1,100\n';

    // Act
    const read = () => parseBrokerCsv(text, { file, timeZone: 'UTC' });

    // Assess
    expect(read).toThrow(
      /^--broker-csv broker\.csv: no column for quantity .*--broker-columns quantity=HEADER$/,
    );
  });

  it('refuses a mapping to a field it does not know, naming --broker-columns', async () => {
    // Why: a typo in the mapping must say so, not be ignored.
    // Prepare
    const values = ['quantiy=Units'];

    // Act
    const map = () => parseColumnMapping(values);

    // Assess
    expect(map).toThrow(
      '--broker-columns: unknown field "quantiy"; the fields are date_sold, asset, quantity, proceeds, cost_basis',
    );
  });
});

describe('the reconciliation', () => {
  // fifo-ledger: s1 sells 0.5 BTC on 03-02 in two slices; s2 1 BTC on 03-02; s3 2 ETH on 03-04.
  const allocations = [
    slice({
      sell_order_id: 's1',
      buy_order_id: 'b1',
      allocated_size: '0.3',
      buy: at('2026-01-01'),
      sell: at('2026-03-02'),
      cost: '60',
      net: '63',
    }),
    slice({
      sell_order_id: 's1',
      buy_order_id: 'b2',
      allocated_size: '0.2',
      buy: at('2026-01-02'),
      sell: at('2026-03-02'),
      cost: '40',
      net: '42',
    }),
    slice({
      sell_order_id: 's2',
      buy_order_id: 'b2',
      allocated_size: '1',
      buy: at('2026-01-02'),
      sell: at('2026-03-02', '13:00:00.000000'),
      cost: '200',
      net: '210',
    }),
    slice({
      sell_order_id: 's3',
      buy_order_id: 'b9',
      symbol: 'ETH-USD',
      allocated_size: '2',
      buy: at('2026-01-02'),
      sell: at('2026-03-04'),
      cost: '10',
      net: '20',
    }),
  ];
  // The broker: s1 and s2 on 03-02 (s2 a cent higher, with basis); a SOL sale fifo-ledger lacks.
  const brokerText =
    'date_sold,asset,quantity,proceeds,cost_basis\n' +
    '2026-03-02,BTC,0.5,105,100\n' +
    '2026-03-02,BTC,1,210.01,200\n' +
    '2026-03-05,SOL,3,30,\n';

  it('pairs by asset, day and quantity, and lists what matches nothing and the differences per day', async () => {
    // Why: the operator must see where the broker and the ledger disagree, and only there.
    // Prepare
    const broker = parseBrokerCsv(brokerText, { file, timeZone: 'UTC' });

    // Act
    const report = buildTaxReport(allocations, { ...options(), broker });
    const r = report.reconciliation!;

    // Assess
    expect(r).toMatchObject({ brokerRows: 3, sells: 3, pairedByQuantity: 2 });
    expect(r.unmatchedBrokerRows.map((u) => [u.row.line, u.reason])).toEqual([
      [4, 'fifo-ledger has no sale of SOL on 2026-03-05'],
    ]);
    expect(r.unmatchedSells.map((s) => s.sellOrderId)).toEqual(['s3']);
    const btc = r.days.find((day) => day.asset === 'BTC')!;
    expect({
      quantity: btc.quantityDifference,
      proceeds: formatAmount(btc.proceedsDifference),
      basis: btc.basisDifference === null ? null : formatAmount(btc.basisDifference),
    }).toEqual({ quantity: 0n, proceeds: '0.01', basis: '0' });
    const text = renderReconciliationText(report, 'broker.csv');
    expect(text).toContain(
      '  line 4: 2026-03-05 SOL 3, proceeds 30: fifo-ledger has no sale of SOL on 2026-03-05\n',
    );
    expect(text).toContain(
      '  2026-03-04 ETH 2, proceeds 20: no broker row that day (fifo explain s3 --version 1)\n',
    );
    expect(text).toContain(
      '  2026-03-02 BTC: quantity 0, proceeds 0.01, basis 0 (2 broker rows, 2 sells, 2 paired by quantity)\n',
    );
  });

  it('changes nothing in the report: the rows and the totals are the same with or without it', async () => {
    // Why: the operator decides what a difference means; the reconciliation only shows it.
    // Prepare
    const broker = parseBrokerCsv(brokerText, { file, timeZone: 'UTC' });

    // Act
    const without = buildTaxReport(allocations, options());
    const withBroker = buildTaxReport(allocations, { ...options(), broker });

    // Assess
    expect(renderTaxCsv(withBroker)).toBe(renderTaxCsv(without));
    expect(renderTotalsCsv(withBroker)).toBe(renderTotalsCsv(without));
  });
});

describe('an unreadable broker CSV', () => {
  it('is refused with one line naming the file', async () => {
    // Why: a broken export (a row with more cells than the header) must not be read half-way.
    // Prepare
    const text = 'date_sold,asset,quantity,proceeds\n2026-03-02,BTC,1,100,7\n';

    // Act
    const read = () => parseBrokerCsv(text, { file, timeZone: 'UTC' });

    // Assess
    expect(read).toThrow(/^--broker-csv broker\.csv: not a readable CSV file: Invalid Record Length/);
  });
});
