/** The top of the HTML email: the verdict banner, the headline figure, the key metrics and their change. */

import {
  localTime,
  money,
  percent,
  pointsChange,
  ratioPercent,
  signedCount,
  signedMoney,
} from '../../util/format.ts';
import { plural, SECTION, summaryLines, verdictHeadline } from '../copy.ts';
import { minus } from '../exact.ts';
import { metricRules } from '../metrics.ts';
import type { ReportModel } from '../model.ts';
import { BANNER, C, dataTable, FONT, heading, na, pnl, small, WRAP } from './parts.ts';
import { type HtmlValue, html, type SafeHtml } from './safe.ts';

/** Reasons the banner lists; the rest are in the health section. */
const BANNER_REASONS = 3;
/** Characters of a reason the banner shows (an error message can be long). */
const BANNER_REASON_CHARS = 160;

export function banner(model: ReportModel): SafeHtml {
  const b = BANNER[model.health.verdict];
  const all = model.health.reasons;
  const shown = all.slice(0, BANNER_REASONS).map((r) => {
    const text =
      r.text.length > BANNER_REASON_CHARS ? `${r.text.slice(0, BANNER_REASON_CHARS - 1)}…` : r.text;
    return html`<li style="margin:2px 0;"><b>${r.level}</b>: ${text}</li>`;
  });
  const more =
    all.length > BANNER_REASONS
      ? html`<li style="margin:2px 0;">${`and ${all.length - BANNER_REASONS} more under ${SECTION.health}`}</li>`
      : '';
  const reasons = all.length
    ? html`<ul style="margin:6px 0 0;padding:0 0 0 18px;font-size:13px;line-height:18px;${WRAP}">${shown}${more}</ul>`
    : html`<div style="margin-top:4px;font-size:13px;line-height:18px;">Fresh, no drift, nothing unmatched or rejected.</div>`;
  return html`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;"><tr><td data-key="verdict" bgcolor="${b.bg}" style="padding:12px 12px;background-color:${b.bg};border-left:6px solid ${b.edge};color:${b.fg};font-family:${FONT};"><div style="font-size:17px;line-height:23px;font-weight:bold;${WRAP}">${verdictHeadline(model)}</div>${reasons}</td></tr></table>`;
}

/** The headline figure and the summary sentences, right under the banner. */
export function summary(model: ReportModel): SafeHtml {
  const line = (text: string) =>
    html`<div style="font-size:13px;line-height:18px;color:${C.text};${WRAP}">${text}</div>`;
  return html`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;margin-top:12px;"><tr><td data-key="realized-pnl" bgcolor="${C.card}" style="padding:0;background-color:${C.card};color:${C.text};font-family:${FONT};"><div style="font-size:11px;line-height:15px;color:${C.muted};text-transform:uppercase;letter-spacing:0.5px;">Realized PnL, last ${model.window.hours} h</div><div style="font-size:26px;line-height:32px;font-weight:bold;">${pnl(model.metrics.realizedPnl)} <span style="font-size:14px;color:${C.muted};font-weight:normal;">USD</span></div>${summaryLines(model).map(line)}</td></tr></table>`;
}

function tile(label: string, value: HtmlValue, note: HtmlValue = ''): SafeHtml {
  return html`<td width="50%" valign="top" bgcolor="${C.card}" style="width:50%;padding:8px;border:1px solid ${C.rule};background-color:${C.card};color:${C.text};font-family:${FONT};${WRAP}"><div style="font-size:11px;line-height:15px;color:${C.muted};text-transform:uppercase;letter-spacing:0.5px;">${label}</div><div style="font-size:19px;line-height:26px;font-weight:bold;color:${C.text};">${value}</div>${
    note === '' ? '' : small(note)
  }</td>`;
}

export function keyMetrics(model: ReportModel): SafeHtml {
  const m = model.metrics;
  const p = model.previous.metrics;
  const hours = model.window.hours;
  const vsPrevious = (now: string, before: string) =>
    `${signedMoney(minus(now, before))} vs previous ${hours} h`;
  const t = model.market.totals;
  const risk = model.risk;
  const tiles = [
    tile(
      'Realized PnL',
      pnl(m.realizedPnl),
      `USD, last ${hours} h; ${vsPrevious(m.realizedPnl, p.realizedPnl)}`,
    ),
    tile(
      'All-time realized PnL',
      pnl(model.allTime.realizedPnl),
      `USD, ${plural(model.allTime.sells, 'sell')}`,
    ),
    tile(
      'Unrealized PnL',
      model.market.positions.length ? pnl(t.unrealizedPnl) : na(),
      model.market.positions.length
        ? `USD at market, ${money(t.marketValue)} held${t.stale ? `; ${plural(t.stale, 'stale mark')}` : ''}`
        : 'no open lots',
    ),
    tile(
      'Win rate',
      percent(m.winRate),
      `${plural(m.wins, 'win')}, ${plural(m.losses, 'loss', 'losses')}, ${m.breakeven} breakeven, ${m.unmatched} unmatched`,
    ),
    tile(
      'Profit factor',
      m.profitFactor === null ? na() : money(m.profitFactor),
      m.profitFactor === null ? (m.profitFactorNote ?? '') : 'gross profit / gross loss',
    ),
    tile('Expectancy', pnl(m.expectancy), 'USD per counted sell'),
    tile('Average win', pnl(m.averageWin), 'USD per winning sell'),
    tile('Average loss', pnl(m.averageLoss), 'USD per losing sell'),
    tile('Sells', String(m.sells), `${signedCount(m.sells - p.sells)} vs previous ${hours} h`),
    tile('Fees paid', money(m.fees), `USD: buys ${money(m.buyFees)}, sells ${money(m.sellFees)}`),
    tile(
      'Max drawdown',
      html`<span style="white-space:nowrap;">${money(risk.maxDrawdown.usd)}</span>`,
      `USD, all time${risk.maxDrawdownPct ? `; ${ratioPercent(risk.maxDrawdownPct.ratio, 1)} at most` : '; % needs a starting equity'}`,
    ),
    tile(
      'Invested',
      ratioPercent(risk.investedRatio, 1),
      risk.cash === null ? 'needs a starting equity' : `cash ${money(risk.cash)} USD`,
    ),
  ];
  const rows: SafeHtml[] = [];
  for (let i = 0; i < tiles.length; i += 2) rows.push(html`<tr>${tiles[i]!}${tiles[i + 1] ?? ''}</tr>`);
  const rules = metricRules(model.window.timeZone).map((r) => html`<li style="margin:2px 0;">${r}</li>`);
  return html`${heading(SECTION.metrics, `last ${hours} h`)}<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;border-collapse:collapse;table-layout:fixed;">${rows}</table>${change(model)}<ul style="margin:8px 0 0;padding:0 0 0 18px;font-size:11px;line-height:16px;color:${C.muted};${WRAP}">${rules}</ul>`;
}

/** The headline figures against the window before. */
function change(model: ReportModel): SafeHtml {
  const m = model.metrics;
  const p = model.previous.metrics;
  const diff = (a: string | null, b: string | null) => (a === null || b === null ? null : minus(a, b));
  return html`${heading(
    SECTION.change,
    `previous ${model.window.hours} h: ${localTime(model.previous.start, model.window.timeZone)} to the window's start`,
  )}${dataTable(
    [
      { title: 'Figure' },
      { title: 'Now', align: 'right' },
      { title: 'Before', align: 'right' },
      { title: 'Change', align: 'right' },
    ],
    [
      ['Realized PnL', pnl(m.realizedPnl), pnl(p.realizedPnl), pnl(minus(m.realizedPnl, p.realizedPnl))],
      ['Sells', m.sells, p.sells, signedCount(m.sells - p.sells)],
      ['Win rate', percent(m.winRate), percent(p.winRate), pointsChange(m.winRate, p.winRate)],
      ['Expectancy', pnl(m.expectancy), pnl(p.expectancy), pnl(diff(m.expectancy, p.expectancy))],
      ['Fees', money(m.fees), money(p.fees), pnl(minus(m.fees, p.fees))],
    ],
  )}`;
}
