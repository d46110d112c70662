/** The HTML email's PnL by group: by entry and exit trigger, by source, by symbol. */

import { money, percent } from '../../util/format.ts';
import { ATTRIBUTION_NOTE, groupLabel, SECTION, SOURCES_NOTE } from '../copy.ts';
import type { Usable } from '../inputs.ts';
import type { ReportModel } from '../model.ts';
import type { StrategyRow } from '../sections.ts';
import { C, dataTable, heading, type Limits, more, na, paragraph, pnl, small, usable } from './parts.ts';
import { html, type SafeHtml } from './safe.ts';

function strategyTable(rows: readonly StrategyRow[]): SafeHtml {
  return dataTable(
    [
      { title: 'Trigger', width: '30%' },
      { title: 'Realized', align: 'right' },
      { title: 'Results', align: 'right' },
      { title: 'Win rate', align: 'right' },
      { title: 'PF / exp.', align: 'right' },
    ],
    rows.map((r) => [
      html`<b>${groupLabel(r.kind, r.name, 'trigger')}</b>`,
      pnl(r.realizedPnl),
      html`${r.sells}${small(`${r.wins}W ${r.losses}L ${r.breakeven}B ${r.unmatched}U`)}`,
      percent(r.winRate),
      html`${r.profitFactor === null ? na() : money(r.profitFactor)}${small(html`exp. ${pnl(r.expectancy)}`)}`,
    ]),
  );
}

export function attribution(model: ReportModel, limits: Limits): SafeHtml {
  const a = model.attribution;
  const part = (title: string, input: Usable<StrategyRow[]>) =>
    html`<div style="margin:12px 0 4px;font-size:13px;font-weight:bold;color:${C.text};">${title}</div>${usable(
      input,
      (rows) =>
        rows.length
          ? [strategyTable(rows.slice(0, limits.groups)), more(rows.length - limits.groups, 'triggers')]
          : paragraph('No sells in the window.'),
    )}`;
  return html`${heading(SECTION.attribution, 'entry and exit trigger')}${part(
    'By entry trigger (the buy)',
    a.entry,
  )}${part('By exit trigger (the sell)', a.exit)}${a.note ? paragraph(a.note) : ''}${paragraph(
    `${ATTRIBUTION_NOTE} W, L, B, U: wins, losses, breakeven, unmatched. exp.: expectancy.`,
  )}`;
}

export function sources(model: ReportModel, limits: Limits): SafeHtml {
  return html`${heading(SECTION.sources, 'trade_records.source')}${usable(model.sources, (rows) =>
    rows.length === 0
      ? paragraph('No trades in the window.')
      : [
          dataTable(
            [
              { title: 'Source', width: '28%' },
              { title: 'Buys', align: 'right' },
              { title: 'Sells', align: 'right' },
              { title: 'PnL of sells', align: 'right' },
              { title: 'Entry PnL', align: 'right' },
            ],
            rows
              .slice(0, limits.groups)
              .map((r) => [
                html`<b>${groupLabel(r.kind, r.name, 'source')}</b>`,
                r.buys,
                r.sells,
                pnl(r.realizedPnl),
                pnl(r.entryPnl),
              ]),
          ),
          more(rows.length - limits.groups, 'sources'),
          paragraph(SOURCES_NOTE),
        ],
  )}`;
}

/** The best and the worst symbols when there are too many to show. */
function shownSymbols<T>(rows: readonly T[], limits: Limits): T[] {
  return rows.length <= limits.groups
    ? [...rows]
    : [...rows.slice(0, limits.groups / 2), ...rows.slice(rows.length - limits.groups / 2)];
}

export function bySymbol(model: ReportModel, limits: Limits): SafeHtml {
  if (model.bySymbol.length === 0)
    return html`${heading(SECTION.bySymbol)}${paragraph('No trades in the window.')}`;
  const shown = shownSymbols(model.bySymbol, limits);
  const hidden = model.bySymbol.length - shown.length;
  return html`${heading(SECTION.bySymbol, 'by realized PnL')}${dataTable(
    [
      { title: 'Symbol', width: '26%' },
      { title: 'Realized', align: 'right' },
      { title: 'Sells', align: 'right' },
      { title: 'Win rate', align: 'right' },
      { title: 'PF / exp.', align: 'right' },
    ],
    shown.map((s) => [
      html`<b>${s.symbol}</b>`,
      html`${pnl(s.realizedPnl)}${small(`fees ${money(s.fees)}`)}`,
      html`${s.sells}${small(`${s.wins}W ${s.losses}L ${s.breakeven}B ${s.unmatched}U`)}`,
      html`${percent(s.winRate)}${small(html`${pnl(s.averageWin)} / ${pnl(s.averageLoss)}`)}`,
      html`${s.profitFactor === null ? na() : money(s.profitFactor)}${small(html`exp. ${pnl(s.expectancy)}`)}`,
    ]),
  )}${
    hidden > 0
      ? paragraph(
          `The ${limits.groups / 2} best and ${limits.groups / 2} worst of ${model.bySymbol.length} symbols; the ${hidden} ` +
            'between them are in the plain-text part and the attached CSV (section symbol).',
        )
      : ''
  }${paragraph(
    'W, L, B, U: wins, losses, breakeven and unmatched sells. Under the win rate: average win / average loss. ' +
      'exp.: expectancy per counted sell. Fees and amounts in USD.',
  )}`;
}
