/**
 * Form 8949 rows from allocations: one row per slice whose sale date, in the taxpayer's zone,
 * falls in the tax year. Nothing is merged, dropped or re-ordered: the rows are the slices.
 *
 *   (a) description   the slice's size and base asset: "0.50000000 BTC" from BTC-USD
 *   (b) date acquired the buy's local date, MM/DD/YYYY
 *   (c) date sold     the sell's local date
 *   (d) proceeds      net proceeds: gross less the slice's share of the sell fee
 *   (e) cost basis    including the slice's share of the buy fee
 *   (f) code, (g) adjustment: empty unless an option fills them
 *   (h) gain          (d) - (e) + (g)
 *
 * An unmatched slice (no lot: buy_order_id NULL) has no cost basis. By default it is a row with
 * (e) and (h) empty, flagged MISSING BASIS, in no box. With `zero-basis` it is reported at a
 * basis of 0, short-term (its acquisition date is unknown, so it cannot be shown long), with
 * the note in column (f).
 */
import type { AllocationRow } from '../fifo/index.ts';
import { parseAmount, parseQuantity } from './amounts.ts';
import { type Box, form8949Box } from './boxes.ts';
import { type CalendarDate, localCalendarDate } from './calendar.ts';
import { holdingPeriod, type Term } from './holding.ts';
import type { BrokerReporting, UnmatchedMode } from './settings.ts';

export const MISSING_BASIS = 'MISSING BASIS';
/** Column (f) of an unmatched slice reported at zero basis. */
export const ZERO_BASIS_NOTE = 'MISSING BASIS: no lot in fifo-ledger, reported at zero basis';

export interface TaxRowOptions {
  readonly year: number;
  readonly timeZone: string;
  readonly version: number;
  readonly brokerReporting: BrokerReporting;
  readonly unmatched: UnmatchedMode;
}

export interface TaxRow {
  readonly symbol: string;
  /** The base asset: BTC for BTC-USD. */
  readonly asset: string;
  /** The slice's size, QTY_SCALE. */
  readonly quantity: bigint;
  readonly acquired: CalendarDate | null;
  readonly sold: CalendarDate;
  /** (d): net proceeds, AMOUNT_SCALE. */
  readonly proceeds: bigint;
  /** Gross proceeds (price x size), for the audit. */
  readonly grossProceeds: bigint;
  /** (e); null when the basis is missing (flagged). */
  readonly costBasis: bigint | null;
  /** (f) */
  readonly code: string;
  /** (g); null when empty. */
  readonly adjustment: bigint | null;
  /** (h); null when the basis is missing. */
  readonly gain: bigint | null;
  /** MISSING BASIS for an unmatched slice, whatever the mode; else ''. */
  readonly flag: '' | typeof MISSING_BASIS;
  readonly sellOrderId: string;
  readonly buyOrderId: string | null;
  readonly acquiredUtc: string | null;
  readonly soldUtc: string;
  readonly daysHeld: number | null;
  /** Null for a flagged row: no lot, no term. */
  readonly term: Term | null;
  /** Null for a flagged row: it is in no box's totals. */
  readonly box: Box | null;
  /** The command that shows how the sell was allocated. */
  readonly explain: string;
  /** The allocation's own note (the engine's text for an unmatched rest). */
  readonly notes: string | null;
}

/** The base asset of a symbol: the part before its last "-" (BTC-USD: BTC), else the symbol. */
export function baseAsset(symbol: string): string {
  const at = symbol.lastIndexOf('-');
  return at > 0 ? symbol.slice(0, at) : symbol;
}

/** A word the shell takes as it is, or the word in single quotes. */
export function shellWord(text: string): string {
  return /^[A-Za-z0-9._:/@%+=,-]+$/.test(text) && !text.startsWith('-')
    ? text
    : `'${text.replaceAll("'", `'\\''`)}'`;
}

export const explainCommand = (sellOrderId: string, version: number): string =>
  `fifo explain ${shellWord(sellOrderId)} --version ${version}`;

const required = (row: AllocationRow, column: keyof AllocationRow): string => {
  const value = row[column];
  if (value === null) throw new Error(`allocation of sell ${row.sell_order_id} has no ${column}`);
  return value;
};

/** The row of one allocation, or null when its sale date falls outside the tax year. */
export function taxRow(allocation: AllocationRow, options: TaxRowOptions): TaxRow | null {
  const soldUtc = required(allocation, 'sell_time');
  const sold = localCalendarDate(soldUtc, options.timeZone);
  if (sold.year !== options.year) return null;
  const symbol = required(allocation, 'symbol');
  const sellOrderId = required(allocation, 'sell_order_id');
  const common = {
    symbol,
    asset: baseAsset(symbol),
    quantity: parseQuantity(required(allocation, 'allocated_size')),
    sold,
    proceeds: parseAmount(required(allocation, 'net_proceeds_usd')),
    grossProceeds: parseAmount(required(allocation, 'proceeds_usd')),
    sellOrderId,
    soldUtc,
    explain: explainCommand(sellOrderId, options.version),
    notes: allocation.notes,
  };
  const buyTime = allocation.buy_time;
  const basisText = allocation.cost_basis_usd;
  if (allocation.buy_order_id === null || buyTime === null || basisText === null) {
    const zero = options.unmatched === 'zero-basis';
    return {
      ...common,
      acquired: null,
      costBasis: zero ? 0n : null,
      code: zero ? ZERO_BASIS_NOTE : '',
      adjustment: null,
      gain: zero ? common.proceeds : null,
      flag: MISSING_BASIS,
      buyOrderId: allocation.buy_order_id,
      acquiredUtc: buyTime,
      daysHeld: null,
      term: zero ? 'short' : null,
      box: zero ? form8949Box('short', options.brokerReporting, options.year, null) : null,
    };
  }
  const held = holdingPeriod(buyTime, soldUtc, options.timeZone);
  const costBasis = parseAmount(basisText);
  return {
    ...common,
    acquired: held.acquired,
    costBasis,
    code: '',
    adjustment: null,
    gain: common.proceeds - costBasis,
    flag: '',
    buyOrderId: allocation.buy_order_id,
    acquiredUtc: buyTime,
    daysHeld: held.daysHeld,
    term: held.term,
    box: form8949Box(held.term, options.brokerReporting, options.year, held.acquired),
  };
}

/** The rows of the allocations sold in the tax year, in the allocations' order. */
export function taxRows(allocations: Iterable<AllocationRow>, options: TaxRowOptions): TaxRow[] {
  const rows: TaxRow[] = [];
  for (const allocation of allocations) {
    const row = taxRow(allocation, options);
    if (row !== null) rows.push(row);
  }
  return rows;
}
