/** Wording both renderers share: section titles, explanations, the subject line. */
import { signedMoney } from './format.ts';
import type { ReportModel } from './model.ts';

export const SECTION = {
  metrics: 'Key metrics',
  bySymbol: 'Per symbol',
  chart: 'Cumulative realized PnL',
  positions: 'Open positions',
  unmatched: 'Unmatched sells',
  health: 'FIFO health',
  legacy: 'Legacy reconciliation',
} as const;

export const UNMATCHED_WHY =
  'Why it matters: these sells found no open buy lot, so they have no cost basis and realized PnL leaves them ' +
  'out; the sold coins were never bought as far as trade_records knows. Usually a buy is missing (not recorded ' +
  'yet, or lost) or the coins came in by deposit or transfer. Once the buy is recorded the next run corrects ' +
  'the PnL.';

export const POSITIONS_NOTE =
  'From the open lots as they are now: size and cost still open, average cost = cost basis / size (fees included).';

export const LEGACY_NOTE =
  'The bot computed PnL inline when it recorded a sell; those deprecated columns can be wrong (stale lots). ' +
  'Difference = FIFO - legacy.';

/** Rows shown in the long tables; the CSV has every allocation. */
export const TABLE_LIMIT = 20;

/** ASCII only (SES subjects are 7-bit unless encoded): "[fifo-ledger] WARNING 2024-03-10: ..." */
export function subjectLine(model: ReportModel, prefix: string): string {
  const m = model.metrics;
  const body =
    `${model.health.verdict} ${model.window.date}: realized PnL ${signedMoney(m.realizedPnl)} USD ` +
    `in ${model.window.hours} h, ${m.sells} sell${m.sells === 1 ? '' : 's'}`;
  return prefix ? `${prefix} ${body}` : body;
}

export const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;
