/**
 * The CSV attachment: the window's allocations with the bot's column names, then the report's
 * other tables, one row each, in the same file: strategy attribution (entry and exit trigger),
 * sources, per symbol, open positions at market and near-instant roundtrips. The first column,
 * `section`, says which a row is (allocation, entry_trigger, exit_trigger, source, symbol,
 * position, roundtrip);
 * a column a section does not use is empty (a position's buy_time is its oldest open lot's). Exact values (no rounding), UTC times, an empty
 * field for NULL. One header line, one line per row.
 */

import { stringify } from 'csv-stringify/sync';
import { ALLOCATION_COLUMNS, type AllocationRow } from '../fifo/index.ts';
import { neutraliseFormula } from '../util/csv-formula.ts';
import { ratio } from './exact.ts';
import type { ReportModel } from './model.ts';
import type { StrategyRow } from './sections.ts';

export const CSV_SECTIONS = [
  'allocation',
  'entry_trigger',
  'exit_trigger',
  'source',
  'symbol',
  'position',
  'roundtrip',
] as const;

export const CSV_COLUMNS = [
  'section',
  'allocation_version',
  ...ALLOCATION_COLUMNS,
  // attribution and sources
  'name',
  'kind',
  'results',
  'wins',
  'losses',
  'breakeven',
  'unmatched',
  'win_rate',
  'expectancy_usd',
  'buys',
  'sells',
  'entry_pnl_usd',
  // positions
  'size',
  'lots',
  'mark_price',
  'mark_source',
  'mark_time',
  'market_value_usd',
  'unrealized_pnl_usd',
  // roundtrips (fees_usd: a symbol's fees too)
  'holding_seconds',
  'fees_usd',
] as const;

type CsvColumn = (typeof CSV_COLUMNS)[number];
type CsvRecord = Partial<Record<CsvColumn, string | null>>;

/** Columns the data fills with any text (the others are decimals, counts and times). */
const TEXT_COLUMNS = new Set<string>([
  'section',
  'sell_order_id',
  'buy_order_id',
  'symbol',
  'notes',
  'name',
  'kind',
  'mark_source',
]);

const allocation = (row: AllocationRow): CsvRecord =>
  Object.fromEntries(ALLOCATION_COLUMNS.map((c) => [c, row[c]]));

const strategy = (section: 'entry_trigger' | 'exit_trigger', r: StrategyRow): CsvRecord => ({
  section,
  name: r.name,
  kind: r.kind,
  results: String(r.sells),
  wins: String(r.wins),
  losses: String(r.losses),
  breakeven: String(r.breakeven),
  unmatched: String(r.unmatched),
  win_rate: ratio(r.wins, r.wins + r.losses),
  expectancy_usd: r.expectancy,
  pnl_usd: r.realizedPnl,
});

export function csvRecords(model: ReportModel): CsvRecord[] {
  const records: CsvRecord[] = model.allocations.map((row) => ({
    section: 'allocation',
    ...allocation(row),
  }));
  const a = model.attribution;
  if (a.entry.ok) records.push(...a.entry.value.map((r) => strategy('entry_trigger', r)));
  if (a.exit.ok) records.push(...a.exit.value.map((r) => strategy('exit_trigger', r)));
  if (model.sources.ok)
    records.push(
      ...model.sources.value.map(
        (r): CsvRecord => ({
          section: 'source',
          name: r.name,
          kind: r.kind,
          buys: String(r.buys),
          sells: String(r.sells),
          pnl_usd: r.realizedPnl,
          entry_pnl_usd: r.entryPnl,
        }),
      ),
    );
  records.push(
    ...model.bySymbol.map(
      (r): CsvRecord => ({
        section: 'symbol',
        symbol: r.symbol,
        results: String(r.sells),
        wins: String(r.wins),
        losses: String(r.losses),
        breakeven: String(r.breakeven),
        unmatched: String(r.unmatched),
        win_rate: ratio(r.wins, r.wins + r.losses),
        expectancy_usd: r.expectancy,
        pnl_usd: r.realizedPnl,
        fees_usd: r.fees,
      }),
    ),
  );
  records.push(
    ...model.market.positions.map(
      (p): CsvRecord => ({
        section: 'position',
        symbol: p.symbol,
        size: p.size,
        lots: String(p.lots),
        cost_basis_usd: p.costBasis,
        buy_time: p.oldestLotTime,
        mark_price: p.mark?.price ?? null,
        mark_source: p.mark?.source ?? null,
        mark_time: p.mark?.at ?? null,
        market_value_usd: p.marketValue,
        unrealized_pnl_usd: p.unrealizedPnl,
      }),
    ),
  );
  records.push(
    ...model.roundtrips.slices.map(
      (s): CsvRecord => ({
        section: 'roundtrip',
        ...allocation(s),
        holding_seconds: s.holding_seconds,
        fees_usd: s.fees_usd,
      }),
    ),
  );
  return records;
}

export function renderCsv(model: ReportModel): string {
  return stringify(
    csvRecords(model).map((record) =>
      CSV_COLUMNS.map((c) => {
        if (c === 'allocation_version') return String(model.version);
        const value = record[c] ?? '';
        return TEXT_COLUMNS.has(c) ? neutraliseFormula(value) : value;
      }),
    ),
    { header: true, columns: [...CSV_COLUMNS], record_delimiter: 'unix' },
  );
}

/** "fifo-allocations-2024-03-10.csv": the report's local date. */
export function csvFileName(model: ReportModel): string {
  return `fifo-allocations-${model.window.date}.csv`;
}
