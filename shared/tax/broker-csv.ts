/**
 * The broker's Form 1099-DA rows, from a CSV export: date sold, asset, quantity, gross
 * proceeds and, where the broker reported it, cost basis. Headers are matched by name, case and
 * punctuation aside ("Date Sold", "date_sold"); `--broker-columns FIELD=HEADER` maps others.
 *
 * Values are read exactly: amounts may carry "$", thousands separators and accounting
 * parentheses for a negative. A date is YYYY-MM-DD or MM/DD/YYYY as the broker printed it, or an
 * ISO-8601 time, which is taken to its calendar date in the taxpayer's zone.
 *
 * Every problem is a TaxInputError that names the file, the line and the column.
 */
import { parse } from 'csv-parse/sync';
import { canonicalTime, NumberFormatError, TimeFormatError } from '../fifo/index.ts';
import { parseAmount, parseQuantity } from './amounts.ts';
import { type CalendarDate, isRealDate, localCalendarDate, parseIsoDate } from './calendar.ts';
import { baseAsset } from './rows.ts';

/** Bad input meant for the operator: one line, naming the option or the file at fault. */
export class TaxInputError extends Error {
  override name = 'TaxInputError';
}

export const BROKER_FIELDS = ['date_sold', 'asset', 'quantity', 'proceeds', 'cost_basis'] as const;
export type BrokerField = (typeof BROKER_FIELDS)[number];
const REQUIRED: readonly BrokerField[] = ['date_sold', 'asset', 'quantity', 'proceeds'];

/** Header names each field is found under when no mapping is given (normalised, see `headerKey`). */
const DEFAULT_HEADERS: Readonly<Record<BrokerField, readonly string[]>> = {
  date_sold: ['date_sold', 'sale_date', 'date_of_sale', 'date_sold_or_disposed', 'sold'],
  asset: ['asset', 'asset_name', 'digital_asset', 'symbol', 'currency', 'token'],
  quantity: ['quantity', 'units', 'number_of_units', 'amount', 'size'],
  proceeds: ['proceeds', 'gross_proceeds'],
  cost_basis: ['cost_basis', 'basis', 'cost_or_other_basis'],
};

export interface BrokerRow {
  /** The file's line the row ends on. */
  readonly line: number;
  readonly sold: CalendarDate;
  /** Upper case base asset: BTC for "btc" or "BTC-USD". */
  readonly asset: string;
  /** QTY_SCALE. */
  readonly quantity: bigint;
  /** AMOUNT_SCALE. */
  readonly proceeds: bigint;
  /** AMOUNT_SCALE; null when the broker reported none. */
  readonly costBasis: bigint | null;
}

/** "Date Sold" and "date_sold" alike. */
export const headerKey = (header: string): string =>
  header
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');

/**
 * `FIELD=HEADER` pairs, comma-separated, repeatable, into a mapping. Throws TaxInputError
 * naming `--broker-columns` for an unknown field or a pair without a header.
 */
export function parseColumnMapping(
  values: readonly string[],
  option = '--broker-columns',
): Map<BrokerField, string> {
  const mapping = new Map<BrokerField, string>();
  for (const value of values) {
    for (const pair of value.split(',')) {
      if (!pair.trim()) continue;
      const at = pair.indexOf('=');
      const field = at > 0 ? pair.slice(0, at).trim() : '';
      const header = at > 0 ? pair.slice(at + 1).trim() : '';
      if (!field || !header)
        throw new TaxInputError(`${option}: expected FIELD=HEADER, got "${pair.trim()}"`);
      if (!(BROKER_FIELDS as readonly string[]).includes(field)) {
        throw new TaxInputError(
          `${option}: unknown field "${field}"; the fields are ${BROKER_FIELDS.join(', ')}`,
        );
      }
      mapping.set(field as BrokerField, header);
    }
  }
  return mapping;
}

/** The column index of every field present, from the header row. */
function locateColumns(
  headers: readonly string[],
  mapping: ReadonlyMap<BrokerField, string>,
  file: string,
): Map<BrokerField, number> {
  const keys = headers.map(headerKey);
  const found = new Map<BrokerField, number>();
  for (const field of BROKER_FIELDS) {
    const mapped = mapping.get(field);
    const wanted = mapped === undefined ? DEFAULT_HEADERS[field] : [headerKey(mapped)];
    const index = keys.findIndex((k) => wanted.includes(k));
    if (index >= 0) found.set(field, index);
    else if (mapped !== undefined) {
      throw new TaxInputError(
        `${file}: no column "${mapped}" for ${field} (given in --broker-columns); its headers are ${headers.join(', ')}`,
      );
    } else if (REQUIRED.includes(field)) {
      throw new TaxInputError(
        `${file}: no column for ${field} (looked for ${wanted.join(', ')}); its headers are ${headers.join(', ')}; ` +
          `map it with --broker-columns ${field}=HEADER`,
      );
    }
  }
  return found;
}

const US_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;

function parseDate(text: string, timeZone: string): CalendarDate | null {
  const iso = parseIsoDate(text);
  if (iso) return iso;
  const us = US_DATE.exec(text);
  if (us) {
    const date = { year: Number(us[3]), month: Number(us[1]), day: Number(us[2]) };
    return isRealDate(date) ? date : null;
  }
  try {
    return localCalendarDate(canonicalTime(text), timeZone);
  } catch (error) {
    if (error instanceof TimeFormatError) return null;
    throw error;
  }
}

/** "$1,234.50" to "1234.50", "(12.5)" to "-12.5". */
function plainNumber(text: string): string {
  let t = text.replace(/[$\s,]/g, '');
  if (/^\(.*\)$/.test(t)) t = `-${t.slice(1, -1)}`;
  return t;
}

/** The broker's rows from the CSV text; `file` names it in every error. */
export function parseBrokerCsv(
  text: string,
  options: { file: string; timeZone: string; columns?: ReadonlyMap<BrokerField, string> },
): BrokerRow[] {
  const { file, timeZone } = options;
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { info: true, bom: true, skip_empty_lines: true }) as unknown as typeof records;
  } catch (error) {
    throw new TaxInputError(`${file}: not a readable CSV file: ${(error as Error).message}`);
  }
  const [header, ...data] = records;
  if (!header) throw new TaxInputError(`${file}: the file is empty (expected a header line)`);
  const columns = locateColumns(header.record, options.columns ?? new Map(), file);
  const at = (record: string[], field: BrokerField): string => {
    const index = columns.get(field);
    return index === undefined ? '' : (record[index] ?? '').trim();
  };
  return data.map(({ record, info }) => {
    const line = info.lines;
    const problem = (field: BrokerField, why: string) =>
      new TaxInputError(`${file} line ${line}, ${field} ("${header.record[columns.get(field)!]}"): ${why}`);
    const number = (field: BrokerField, read: (t: string) => bigint): bigint => {
      const raw = at(record, field);
      if (!raw) throw problem(field, 'empty');
      try {
        return read(plainNumber(raw));
      } catch (error) {
        if (error instanceof NumberFormatError) throw problem(field, `"${raw}" is not a decimal number`);
        throw error;
      }
    };
    const dateText = at(record, 'date_sold');
    const sold = dateText ? parseDate(dateText, timeZone) : null;
    if (!sold) {
      throw problem('date_sold', `"${dateText}" is not a date (YYYY-MM-DD, MM/DD/YYYY or an ISO-8601 time)`);
    }
    const assetText = at(record, 'asset');
    if (!assetText) throw problem('asset', 'empty');
    const quantity = number('quantity', parseQuantity);
    if (quantity <= 0n) throw problem('quantity', `"${at(record, 'quantity')}" is not a positive quantity`);
    const proceeds = number('proceeds', parseAmount);
    const costBasis = at(record, 'cost_basis') ? number('cost_basis', parseAmount) : null;
    return { line, sold, asset: baseAsset(assetText.toUpperCase()), quantity, proceeds, costBasis };
  });
}
