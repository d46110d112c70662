/**
 * The two charts of the HTML email, drawn as table cells with a background colour: email
 * clients run no script and many strip SVG. Axes are labelled; there are no hover titles.
 */

import { money, signedMoney } from '../../util/format.ts';
import { type CurveSeries, type DailySeries, position, scaled } from '../charts.ts';
import { SECTION } from '../copy.ts';
import { compare, minus } from '../exact.ts';
import type { ReportModel } from '../model.ts';
import { C, FONT, heading, paragraph } from './parts.ts';
import { type HtmlValue, html, type SafeHtml } from './safe.ts';

const BAR_HEIGHT = 110;
const AXIS_WIDTH = '19%';

/** A cell's coloured block of `height` px: a nested table, which every client sizes. */
const block = (height: number, color: string, top = '') =>
  height <= 0
    ? ''
    : html`<table width="100%" cellpadding="0" cellspacing="0" border="0"><tr><td data-bar="1" height="${height}" bgcolor="${color}" style="height:${height}px;font-size:0;line-height:0;${top}">&nbsp;</td></tr></table>`;

const axisLabel = (text: string, valign: 'top' | 'bottom' | 'middle', height: number) =>
  html`<td height="${height}" valign="${valign}" align="right" style="height:${height}px;padding:0 4px 0 0;vertical-align:${valign};font-size:10px;line-height:12px;color:${C.muted};white-space:nowrap;">${text}</td>`;

/** The axis column: a nested table of labels, one under the other. */
const axisColumn = (height: number, labels: readonly SafeHtml[]) =>
  html`<td style="padding:0;" height="${height}"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">${labels.map((l) => html`<tr>${l}</tr>`)}</table></td>`;

/** The date labels under a chart: one per week, each under the day it names. */
function dateAxis(dates: readonly string[]): SafeHtml {
  const step = 7;
  const cells: SafeHtml[] = [];
  for (let i = 0; i < dates.length; i += step) {
    const span = Math.min(step, dates.length - i);
    const label = span >= 3 ? dates[i]!.slice(5) : '';
    cells.push(
      html`<td colspan="${span}" align="left" valign="top" style="padding:3px 0 0;font-size:10px;line-height:12px;color:${C.muted};white-space:nowrap;overflow:hidden;">${label}</td>`,
    );
  }
  return html`<tr><td style="font-size:10px;line-height:12px;color:${C.muted};padding:3px 4px 0 0;" align="right">date</td>${cells}</tr>`;
}

function chartTable(name: string, rows: HtmlValue): SafeHtml {
  return html`<table role="presentation" data-chart="${name}" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="${C.card}" style="width:100%;table-layout:fixed;border-collapse:collapse;background-color:${C.card};font-family:${FONT};"><colgroup><col style="width:${AXIS_WIDTH};"></colgroup>${rows}</table>`;
}

/** Daily realized PnL: bars up (gain) and down (loss) from a zero line, values on the axis. */
export function dailyChart(model: ReportModel, series: DailySeries): SafeHtml {
  const { points, top, bottom } = series;
  const span = minus(top, bottom);
  const hasUp = !/^0$/.test(top);
  const hasDown = !/^0$/.test(bottom);
  const upHeight = !hasDown
    ? BAR_HEIGHT
    : !hasUp
      ? 0
      : Math.max(24, Math.min(BAR_HEIGHT - 24, BAR_HEIGHT - scaled(bottom, span, BAR_HEIGHT)));
  const downHeight = BAR_HEIGHT - upHeight;
  const barCell = (inner: HtmlValue, height: number, valign: 'top' | 'bottom', border: string) =>
    html`<td height="${height}" valign="${valign}" style="padding:0 1px;${border}">${inner}</td>`;
  const zeroLine = `border-bottom:1px solid ${C.axis};`;
  const upRow =
    upHeight > 0
      ? html`<tr>${axisColumn(upHeight, [
          axisLabel(signedMoney(top), 'top', upHeight - 12),
          axisLabel('0', 'bottom', 12),
        ])}${points.map((p) =>
          barCell(
            p.value.startsWith('-') || p.value === '0'
              ? ''
              : block(scaled(p.value, span, BAR_HEIGHT), C.gain),
            upHeight,
            'bottom',
            zeroLine,
          ),
        )}</tr>`
      : '';
  const downRow =
    downHeight > 0
      ? html`<tr>${axisColumn(downHeight, [
          ...(upHeight === 0 ? [axisLabel('0', 'top', 12)] : []),
          axisLabel(signedMoney(bottom), 'bottom', downHeight - (upHeight === 0 ? 12 : 0)),
        ])}${points.map((p) =>
          barCell(
            p.value.startsWith('-') ? block(scaled(p.value, span, BAR_HEIGHT), C.loss) : '',
            downHeight,
            'top',
            upHeight === 0 ? `border-top:1px solid ${C.axis};` : '',
          ),
        )}</tr>`
      : '';
  const active = points.filter((p) => p.value !== '0');
  const last = points.at(-1);
  return html`${heading(
    `${SECTION.dailyChart}, last ${points.length} days`,
    `USD per day, days in ${model.chart.timeZone}`,
  )}${chartTable('daily-pnl', [upRow, downRow, dateAxis(points.map((p) => p.date))])}${paragraph(
    active.length === 0
      ? `No realized PnL from ${points[0]?.date} to ${last?.date}.`
      : `${last?.date}: ${signedMoney(last?.value ?? '0')} USD. Best day ${bestDay(active, 1)}, worst day ${bestDay(active, -1)}. ` +
          `Axis: USD from ${signedMoney(bottom)} to ${signedMoney(top)}; dates month-day.`,
  )}`;
}

/** The day with the highest (sign 1) or lowest (sign -1) value, as "2024-03-10 +20.63". */
const bestDay = (points: readonly { date: string; value: string }[], sign: 1 | -1) => {
  const pick = points.reduce((best, p) => (compare(p.value, best.value) * sign > 0 ? p : best));
  return `${pick.date} ${signedMoney(pick.value)}`;
};

/** The equity curve: a filled area from the axis's low to each day's value, with a line on top. */
export function equityChart(model: ReportModel, series: CurveSeries): SafeHtml {
  const H = BAR_HEIGHT;
  const { points, low, high } = series;
  // The value as a line (the cell's top border) over a filled area down to the axis's low.
  const cells = points.map(
    (p) =>
      html`<td height="${H}" valign="bottom" style="padding:0;border-bottom:1px solid ${C.axis};">${block(
        Math.max(1, position(p.value, low, high, H) - 2),
        C.curveFill,
        `border-top:2px solid ${C.curve};`,
      )}</td>`,
  );
  const axis = axisColumn(H, [axisLabel(money(high), 'top', H - 12), axisLabel(money(low), 'bottom', 12)]);
  const last = points.at(-1);
  const title =
    series.kind === 'equity'
      ? `${SECTION.equityChart}, last ${points.length} days`
      : `All-time realized PnL, last ${points.length} days`;
  const start = model.risk.startingEquity.source === 'none' ? '0' : model.risk.startingEquity.amount;
  const note =
    series.kind === 'equity'
      ? `Starting equity ${money(start)} USD + all-time realized PnL at each day's end`
      : "Starting equity unknown: the all-time realized PnL at each day's end";
  return html`${heading(title, 'USD at the end of each day')}${chartTable('equity', [
    html`<tr>${axis}${cells}</tr>`,
    dateAxis(points.map((p) => p.date)),
  ])}${paragraph(
    `${note}. At the end of ${last?.date}: ${series.kind === 'equity' ? money(last?.value ?? '0') : signedMoney(last?.value ?? '0')} USD` +
      ` (all-time realized PnL ${signedMoney(model.allTime.realizedPnl)} USD, as in Key metrics). ` +
      `Axis: ${money(low)} to ${money(high)} USD, not from zero.`,
  )}`;
}
