/**
 * Tax lots: every allocation is a Form 8949 row, with its holding period by the
 * IRS rule in the taxpayer's zone, its box (G to L) from its term and what the broker reported,
 * exact totals per box and term, unmatched sells flagged, and a reconciliation with the
 * broker's Form 1099-DA that never changes the report.
 *
 *   calendar.ts    local calendar dates in an IANA zone (Intl, as the daily report)
 *   holding.ts     holding period and term
 *   settings.ts    the choices of --broker-reporting and --unmatched (no imports)
 *   boxes.ts       the Form 8949 box from the term and --broker-reporting
 *   rows.ts        one row per allocation sold in the year
 *   totals.ts      exact totals per box, per term, in all; the missing-basis total
 *   broker-csv.ts  the broker's rows from its CSV
 *   reconcile.ts   broker rows against fifo-ledger's sells
 *   read.ts        the SQL
 *   report.ts      the report of a year
 *   render-*.ts    CSV, JSON and text
 */
export * from './amounts.ts';
export * from './boxes.ts';
export * from './broker-csv.ts';
export * from './calendar.ts';
export * from './holding.ts';
export * from './read.ts';
export * from './reconcile.ts';
export * from './render-csv.ts';
export * from './render-json.ts';
export * from './render-text.ts';
export * from './report.ts';
export * from './rows.ts';
export * from './settings.ts';
export * from './totals.ts';
