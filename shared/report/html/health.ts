/** The HTML email's checks: FIFO health, and the legacy PnL column against FIFO. */

import { duration, localTime } from '../../util/format.ts';
import { LEGACY_NOTE, plural, SECTION } from '../copy.ts';
import type { ReportModel } from '../model.ts';
import { ageSeconds } from '../verdict.ts';
import {
  BANNER,
  C,
  dataTable,
  heading,
  type Limits,
  more,
  paragraph,
  pnl,
  small,
  smallId,
  WRAP,
} from './parts.ts';
import { type HtmlValue, html, type SafeHtml } from './safe.ts';

export function health(model: ReportModel): SafeHtml {
  const h = model.health.status;
  const tz = model.window.timeZone;
  const at = new Date(model.generatedAt);
  const run = (r: typeof h.lastSuccess.full) =>
    r ? html`${localTime(r.startedAt, tz)}${small(`${duration(ageSeconds(r.startedAt, at))} ago`)}` : 'never';
  const failed = (r: typeof h.lastRun.full) =>
    r?.status === 'failed'
      ? html`<div style="font-size:11px;color:${C.loss};">last run failed ${localTime(r.startedAt, tz)}</div>`
      : '';
  const unmatchedBySymbol = h.unmatchedSells.bySymbol
    .slice(0, 5)
    .map((u) => `${u.symbol} ${plural(u.sells, 'sell')}`)
    .join(', ');
  const rows: [string, HtmlValue][] = [
    ['Verdict', html`<b style="color:${BANNER[model.health.verdict].edge};">${model.health.verdict}</b>`],
    ['Last successful incremental run', [run(h.lastSuccess.incremental), failed(h.lastRun.incremental)]],
    ['Last successful full rebuild', [run(h.lastSuccess.full), failed(h.lastRun.full)]],
    ['Lag', `${duration(h.lagSeconds)}, ${plural(h.pendingChanges, 'pending change')}`],
    [
      'Last drift',
      h.lastDrift
        ? html`${`${plural(h.lastDrift.rows, 'row')}, ${h.lastDrift.usd} USD`}${small(localTime(h.lastDrift.at, tz))}`
        : 'no full rebuild yet',
    ],
    [
      'Unmatched sells',
      html`${`${new Set(model.unmatchedSells.map((u) => u.sellOrderId)).size} in the window, ${h.unmatchedSells.count} all time`}${
        unmatchedBySymbol ? small(unmatchedBySymbol) : ''
      }`,
    ],
    ['Rejected trades', h.rejectedTrades],
    [
      'Abandoned / failed runs',
      `${h.abandonedRuns} abandoned, ${model.health.failedRunsInWindow} failed in the window` +
        (h.runInProgress ? '; a run is in progress' : ''),
    ],
    ['Allocations / open lots', `${h.allocations} / ${h.openLots}`],
  ];
  const reasons = model.health.reasons.length
    ? html`<ul style="margin:8px 0 0;padding:0 0 0 18px;font-size:12px;line-height:17px;color:${C.text};${WRAP}">${model.health.reasons.map(
        (r) => html`<li style="margin:2px 0;"><b>${r.level}</b>: ${r.text}</li>`,
      )}</ul>`
    : '';
  return html`${heading(SECTION.health, `version ${model.version}`)}${dataTable(
    [{ title: 'Check' }, { title: 'Status' }],
    rows.map(([k, v]) => [html`<span style="color:${C.muted};">${k}</span>`, v]),
  )}${reasons}`;
}

export function legacy(model: ReportModel, limits: Limits): SafeHtml {
  const l = model.legacy;
  if (!l) return html``;
  const tz = model.window.timeZone;
  const title = heading(SECTION.legacy, `legacy ${l.columns.join(' or ')} vs FIFO`);
  if (l.rows.length === 0)
    return html`${title}${paragraph(
      `No sell in the window has a legacy value${l.withoutLegacy ? ` (${plural(l.withoutLegacy, 'sell')} without one)` : ''}.`,
    )}`;
  return html`${title}${paragraph(
    html`${`${plural(l.rows.length, 'sell')} compared, ${l.withoutLegacy} without a legacy value. `}Total difference: <b>${pnl(l.totalDifference)}</b> USD.`,
    C.text,
  )}${dataTable(
    [
      { title: 'Time / sell' },
      { title: 'Legacy', align: 'right' },
      { title: 'FIFO', align: 'right' },
      { title: 'Difference', align: 'right' },
    ],
    l.rows
      .slice(0, limits.rows)
      .map((r) => [
        html`${localTime(r.sellTime, tz)} ${r.symbol}${smallId(r.sellOrderId)}`,
        pnl(r.legacyPnl),
        pnl(r.fifoPnl),
        pnl(r.difference),
      ]),
    ['Total', pnl(l.legacyTotal), pnl(l.fifoTotal), pnl(l.totalDifference)],
  )}${more(l.rows.length - limits.rows, 'with smaller differences', 'the plain-text part lists them')}${paragraph(
    LEGACY_NOTE,
  )}`;
}
