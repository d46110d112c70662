/** The HTML email's sells in detail: holding times, near-instant roundtrips, big movers, unmatched sells. */

import { duration, localTime, money, price, quantity } from '../../util/format.ts';
import { HOLDING_NOTE, MOVERS_NOTE, plural, ROUNDTRIP_NOTE, SECTION, UNMATCHED_WHY } from '../copy.ts';
import type { ReportModel } from '../model.ts';
import { C, dataTable, heading, type Limits, more, paragraph, pnl, small, smallId, WRAP } from './parts.ts';
import { html, type SafeHtml } from './safe.ts';

/** A symbol's name in bold; the row of all symbols is "All". */
const symbolCell = (symbol: string | null) => html`<b>${symbol ?? 'All'}</b>`;

export function holding(model: ReportModel, limits: Limits): SafeHtml {
  if (model.holding.length === 0)
    return html`${heading(SECTION.holding)}${paragraph('No lot slices sold in the window.')}`;
  return html`${heading(SECTION.holding, 'size-weighted')}${dataTable(
    [
      { title: 'Symbol', width: '30%' },
      { title: 'Slices', align: 'right' },
      { title: 'Median', align: 'right' },
      { title: 'p90', align: 'right' },
    ],
    [
      ...model.holding.filter((h) => h.symbol === null),
      ...model.holding
        .filter((h) => h.symbol !== null)
        .sort((a, b) => b.slices - a.slices)
        .slice(0, limits.rows),
    ].map((h) => [
      symbolCell(h.symbol),
      html`${h.slices}${small(h.weightedBy === 'usd' ? `cost ${money(h.weight)} USD` : `size ${quantity(h.weight)}`)}`,
      duration(h.medianSeconds),
      duration(h.p90Seconds),
    ]),
  )}${more(model.holding.length - 1 - limits.rows, 'symbols')}${paragraph(HOLDING_NOTE)}`;
}

export function roundtrips(model: ReportModel, limits: Limits): SafeHtml {
  const r = model.roundtrips;
  const total = r.groups.at(-1)!;
  const title = heading(SECTION.roundtrips, `held ${duration(r.thresholdSeconds)} or less`);
  if (total.slices === 0) return html`${title}${paragraph(`None in the window. ${ROUNDTRIP_NOTE}`)}`;
  const tz = model.window.timeZone;
  return html`${title}${dataTable(
    [
      { title: 'Symbol', width: '30%' },
      { title: 'Slices', align: 'right' },
      { title: 'PnL', align: 'right' },
      { title: 'Fees', align: 'right' },
    ],
    [...r.groups.slice(0, -1).slice(0, limits.rows), total].map((g) => [
      symbolCell(g.symbol),
      html`${g.slices}${small(plural(g.sells, 'sell'))}`,
      pnl(g.pnl),
      money(g.fees),
    ]),
  )}${dataTable(
    [{ title: 'Time / sell' }, { title: 'Held', align: 'right' }, { title: 'PnL', align: 'right' }],
    r.slices
      .slice(0, limits.rows)
      .map((s) => [
        html`${localTime(s.sell_time!, tz)} ${s.symbol ?? ''}${smallId(s.sell_order_id ?? '')}`,
        duration(Number(s.holding_seconds)),
        html`${pnl(s.pnl_usd)}${small(`fees ${money(s.fees_usd)}`)}`,
      ]),
  )}${more(r.slices.length - limits.rows, 'slices', 'the attached CSV lists them (section roundtrip)')}${paragraph(
    ROUNDTRIP_NOTE,
  )}`;
}

export function movers(model: ReportModel): SafeHtml {
  const { best, worst } = model.movers;
  if (best.length + worst.length === 0)
    return html`${heading(SECTION.movers)}${paragraph('No counted sells in the window.')}`;
  const tz = model.window.timeZone;
  const rows = [...best, ...worst].map((m) => [
    html`${localTime(m.sellTime, tz)} <b>${m.symbol}</b><div style="margin-top:2px;font-family:Menlo,Consolas,monospace;font-size:11px;line-height:15px;color:${C.text};background-color:${C.faint};padding:2px 4px;${WRAP}">${m.command}</div>`,
    pnl(m.pnl),
  ]);
  return html`${heading(SECTION.movers, 'best and worst sells of the window')}${dataTable(
    [{ title: 'Sell' }, { title: 'PnL', align: 'right' }],
    rows,
  )}${paragraph(MOVERS_NOTE)}`;
}

export function unmatched(model: ReportModel, limits: Limits): SafeHtml {
  const tz = model.window.timeZone;
  const list = model.unmatchedSells;
  if (list.length === 0)
    return html`${heading(SECTION.unmatched, 'in the window')}${paragraph(
      'None: every sell in the window found open lots.',
    )}`;
  return html`${heading(SECTION.unmatched, `in the window: ${list.length}`)}${dataTable(
    [
      { title: 'Time / sell', width: '40%' },
      { title: 'Unmatched size', align: 'right' },
      { title: 'Proceeds', align: 'right' },
    ],
    list
      .slice(0, limits.rows)
      .map((u) => [
        html`${localTime(u.sellTime, tz)} <b>${u.symbol}</b>${smallId(u.sellOrderId)}`,
        html`${quantity(u.unmatchedSize)}${small(`of ${quantity(u.sellSize)} sold`)}`,
        html`${money(u.proceeds)}${small(`@ ${price(u.sellPrice)}`)}`,
      ]),
  )}${more(list.length - limits.rows, 'unmatched sells', 'the attached CSV lists them (buy_order_id empty)')}${paragraph(
    UNMATCHED_WHY,
    C.text,
  )}`;
}
