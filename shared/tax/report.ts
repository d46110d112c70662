/**
 * The tax report of one year: its rows, their totals and, given the broker's rows, the
 * reconciliation. `buildTaxReport` is pure; `readTaxReport` reads the allocations first.
 */
import type pg from 'pg';
import type { AllocationRow } from '../fifo/index.ts';
import type { BrokerRow } from './broker-csv.ts';
import { type CalendarDate, startOfLocalDay } from './calendar.ts';
import { readYearAllocations } from './read.ts';
import { type Reconciliation, reconcileBroker } from './reconcile.ts';
import { type TaxRow, type TaxRowOptions, taxRows } from './rows.ts';
import type { BrokerReporting, UnmatchedMode } from './settings.ts';
import { type TaxTotals, taxTotals } from './totals.ts';

export interface TaxReportOptions extends TaxRowOptions {
  /** The broker's Form 1099-DA rows, to reconcile with; omitted, no reconciliation. */
  readonly broker?: readonly BrokerRow[];
}

export interface TaxPeriod {
  readonly firstDay: CalendarDate;
  readonly lastDay: CalendarDate;
  /** The year's first instant in the zone (inclusive), ISO UTC. */
  readonly startUtc: string;
  /** The next year's first instant (exclusive), ISO UTC. */
  readonly endUtc: string;
}

export interface TaxReport {
  readonly year: number;
  readonly timeZone: string;
  readonly version: number;
  readonly brokerReporting: BrokerReporting;
  readonly unmatched: UnmatchedMode;
  readonly period: TaxPeriod;
  readonly rows: TaxRow[];
  readonly totals: TaxTotals;
  readonly reconciliation: Reconciliation | null;
}

/** The local calendar year as UTC instants: sales at or after start and before end are in it. */
export function taxPeriod(year: number, timeZone: string): TaxPeriod {
  return {
    firstDay: { year, month: 1, day: 1 },
    lastDay: { year, month: 12, day: 31 },
    startUtc: startOfLocalDay({ year, month: 1, day: 1 }, timeZone).toISOString(),
    endUtc: startOfLocalDay({ year: year + 1, month: 1, day: 1 }, timeZone).toISOString(),
  };
}

export function buildTaxReport(allocations: Iterable<AllocationRow>, options: TaxReportOptions): TaxReport {
  const rows = taxRows(allocations, options);
  return {
    year: options.year,
    timeZone: options.timeZone,
    version: options.version,
    brokerReporting: options.brokerReporting,
    unmatched: options.unmatched,
    period: taxPeriod(options.year, options.timeZone),
    rows,
    totals: taxTotals(rows),
    reconciliation: options.broker ? reconcileBroker(options.broker, rows, options.year) : null,
  };
}

export async function readTaxReport(
  db: pg.Pool | pg.ClientBase,
  options: TaxReportOptions,
): Promise<TaxReport> {
  return buildTaxReport(await readYearAllocations(db, options.version, options.year), options);
}
