/**
 * The HTML email body. Email clients ignore <style> blocks and scripts and many strip SVG, so
 * the layout is nested tables with inline CSS only:
 * - a 600 px container that shrinks to the screen (width:100%; max-width:600px), no fixed
 *   widths inside it, cells that wrap long words: nothing scrolls sideways on a 375 px phone;
 * - the verdict and the realized PnL first, so both are on the first screen;
 * - charts drawn as table cells with a background colour (bgcolor and CSS), with labelled
 *   axes: no JavaScript, no images, no SVG, no hover titles;
 * - every element that holds text sets both its colour and its background, and the page
 *   declares a light colour scheme, so a dark-mode client shows no white on white.
 * Every value from the database is escaped.
 */
import { type CurveSeries, curveSeries, type DailySeries, dailySeries, position, scaled } from './charts.ts';
import {
  ATTRIBUTION_NOTE,
  equitySourceText,
  groupLabel,
  HOLDING_NOTE,
  LEGACY_NOTE,
  MARKET_NOTE,
  MOVERS_NOTE,
  plural,
  RISK_NOTE,
  ROUNDTRIP_NOTE,
  SECTION,
  SOURCES_NOTE,
  summaryLines,
  UNMATCHED_WHY,
  verdictHeadline,
} from './copy.ts';
import { compare, minus } from './exact.ts';
import {
  duration,
  escapeHtml as e,
  localTime,
  money,
  percent,
  pointsChange,
  price,
  quantity,
  ratioPercent,
  signedCount,
  signedMoney,
} from './format.ts';
import type { Usable } from './inputs.ts';
import { metricRules } from './metrics.ts';
import type { ReportModel } from './model.ts';
import type { StrategyRow } from './sections.ts';
import { TAX_YTD_TITLE, turningSummary } from './tax-ytd.ts';
import type { Verdict } from './verdict.ts';
import { ageSeconds } from './verdict.ts';

const FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
const C = {
  text: '#1f2937',
  muted: '#4b5563',
  rule: '#e5e7eb',
  faint: '#f3f4f6',
  gain: '#15803d',
  gainFill: '#bbf7d0',
  loss: '#b91c1c',
  page: '#f3f4f6',
  card: '#ffffff',
  axis: '#9ca3af',
  curve: '#1d4ed8',
  curveFill: '#dbeafe',
  needs: '#92400e',
  needsBg: '#fffbeb',
};

const BANNER: Record<Verdict, { bg: string; edge: string; fg: string }> = {
  OK: { bg: '#dcfce7', edge: '#15803d', fg: '#14532d' },
  WARNING: { bg: '#fef3c7', edge: '#b45309', fg: '#78350f' },
  STALE: { bg: '#fee2e2', edge: '#b91c1c', fg: '#7f1d1d' },
  FAILED: { bg: '#fee2e2', edge: '#7f1d1d', fg: '#7f1d1d' },
};

/**
 * Gmail clips an HTML body over 102 KB behind "View entire message". The HTML shows at most
 * `groups` symbols, strategies, sources and positions and `rows` lines of a detail list, and
 * renderHtml takes the first of these limits whose email fits in HTML_BUDGET bytes; the
 * plain-text part and the CSV always have every row.
 */
export const HTML_BUDGET = 100_000;
const LIMITS = [
  { groups: 20, rows: 10 },
  { groups: 10, rows: 5 },
  { groups: 6, rows: 3 },
  { groups: 4, rows: 1 },
] as const;
/** The limits of the render in progress (rendering is synchronous). */
let limits: { readonly groups: number; readonly rows: number } = LIMITS[0];

const more = (hidden: number, what: string, where = 'the plain-text part and the attached CSV have them') =>
  hidden > 0 ? paragraph(e(`... and ${hidden} more ${what}: ${where}.`)) : '';

/** Reasons the banner lists; the rest are in the health section. */
const BANNER_REASONS = 3;
/** Characters of a reason the banner shows (an error message can be long). */
const BANNER_REASON_CHARS = 160;

/** Lets a long word (an order id, a strategy's name) break anywhere rather than widen the page. */
const WRAP = 'word-break:break-word;';

const pnlColor = (text: string) => (text.startsWith('-') ? C.loss : /[1-9]/.test(text) ? C.gain : C.text);

const na = () => `<span style="color:${C.muted};">n/a</span>`;

/** A PnL amount, coloured by sign. */
const pnl = (text: string | null) =>
  text === null ? na() : `<span style="color:${pnlColor(text)};">${e(signedMoney(text))}</span>`;

const small = (html: string) =>
  `<div style="font-size:11px;line-height:15px;color:${C.muted};">${html}</div>`;

/** A small line that may hold a long unbroken id: it wraps anywhere. */
const smallId = (html: string) =>
  `<div style="font-size:11px;line-height:15px;color:${C.muted};${WRAP}">${html}</div>`;

function heading(title: string, note = ''): string {
  return (
    `<h2 style="margin:24px 0 8px;font-size:16px;line-height:22px;color:${C.text};font-family:${FONT};">${e(title)}` +
    (note ? ` <span style="font-size:12px;font-weight:normal;color:${C.muted};">${e(note)}</span>` : '') +
    '</h2>'
  );
}

const paragraph = (html: string, color = C.muted) =>
  `<p style="margin:8px 0 0;font-size:12px;line-height:17px;color:${color};${WRAP}">${html}</p>`;

/** What a section needs on this database, instead of its figures. */
const needsNote = (text: string) =>
  `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;margin-top:4px;">` +
  `<tr><td bgcolor="${C.needsBg}" style="padding:8px 10px;background-color:${C.needsBg};border-left:4px solid ${C.needs};` +
  `color:${C.needs};font-size:12px;line-height:17px;font-family:${FONT};${WRAP}"><b>Needs:</b> ${e(text)}</td></tr></table>`;

interface Column {
  readonly title: string;
  readonly align?: 'left' | 'right';
  /** A share of the table, e.g. '30%': keeps a name column from being squeezed on a phone. */
  readonly width?: string;
}

/** A data table: header row, rows of pre-rendered HTML cells, numbers right-aligned; cells wrap. */
function dataTable(columns: readonly Column[], rows: readonly string[][], footer?: string[]): string {
  const cell = (tag: 'th' | 'td', html: string, i: number, extra = '') => {
    const align = columns[i]?.align ?? 'left';
    const width = tag === 'th' && columns[i]?.width ? `width:${columns[i]!.width};` : '';
    // Cells inherit size and colour from the table; the header sets its own.
    const base =
      tag === 'th'
        ? `border-bottom:2px solid ${C.rule};font-size:11px;color:${C.muted};text-align:${align};`
        : `border-bottom:1px solid ${C.faint};`;
    // Text wraps anywhere (a long name); a number only between words ("52.3%" stays whole).
    const wrap = align === 'right' ? '' : WRAP;
    return `<${tag} align="${align}" valign="top" style="${base}${width}${wrap}${extra}">${html}</${tag}>`;
  };
  const head = `<tr>${columns.map((c, i) => cell('th', e(c.title), i)).join('')}</tr>`;
  const body = rows.map((r) => `<tr>${r.map((html, i) => cell('td', html, i)).join('')}</tr>`).join('');
  const foot = footer
    ? `<tr>${footer.map((html, i) => cell('td', html, i, 'font-weight:bold;border-bottom:0;')).join('')}</tr>`
    : '';
  return (
    // cellpadding rather than a padding on every cell: the same in every client, and shorter.
    `<table width="100%" cellpadding="5" cellspacing="0" border="0" bgcolor="${C.card}" ` +
    `style="width:100%;border-collapse:collapse;background-color:${C.card};color:${C.text};font-size:13px;line-height:18px;` +
    `font-family:${FONT};font-variant-numeric:tabular-nums;">` +
    `${head}${body}${foot}</table>`
  );
}

function banner(model: ReportModel): string {
  const b = BANNER[model.health.verdict];
  const all = model.health.reasons;
  const shown = all.slice(0, BANNER_REASONS).map((r) => {
    const text =
      r.text.length > BANNER_REASON_CHARS ? `${r.text.slice(0, BANNER_REASON_CHARS - 1)}…` : r.text;
    return `<li style="margin:2px 0;"><b>${e(r.level)}</b>: ${e(text)}</li>`;
  });
  const more =
    all.length > BANNER_REASONS
      ? `<li style="margin:2px 0;">${e(`and ${all.length - BANNER_REASONS} more under ${SECTION.health}`)}</li>`
      : '';
  const reasons = all.length
    ? `<ul style="margin:6px 0 0;padding:0 0 0 18px;font-size:13px;line-height:18px;${WRAP}">${shown.join('')}${more}</ul>`
    : `<div style="margin-top:4px;font-size:13px;line-height:18px;">Fresh, no drift, nothing unmatched or rejected.</div>`;
  return (
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;">` +
    `<tr><td data-key="verdict" bgcolor="${b.bg}" style="padding:12px 12px;background-color:${b.bg};border-left:6px solid ${b.edge};color:${b.fg};font-family:${FONT};">` +
    `<div style="font-size:17px;line-height:23px;font-weight:bold;${WRAP}">${e(verdictHeadline(model))}</div>${reasons}</td></tr></table>`
  );
}

/** The headline figure and the summary sentences, right under the banner. */
function summary(model: ReportModel): string {
  const m = model.metrics;
  const [first, ...rest] = summaryLines(model);
  return (
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;margin-top:12px;">` +
    `<tr><td data-key="realized-pnl" bgcolor="${C.card}" style="padding:0;background-color:${C.card};color:${C.text};font-family:${FONT};">` +
    `<div style="font-size:11px;line-height:15px;color:${C.muted};text-transform:uppercase;letter-spacing:0.5px;">Realized PnL, last ${model.window.hours} h</div>` +
    `<div style="font-size:26px;line-height:32px;font-weight:bold;">${pnl(m.realizedPnl)} <span style="font-size:14px;color:${C.muted};font-weight:normal;">USD</span></div>` +
    `<div style="font-size:13px;line-height:18px;color:${C.text};${WRAP}">${e(first!)}</div>` +
    rest
      .map((line) => `<div style="font-size:13px;line-height:18px;color:${C.text};${WRAP}">${e(line)}</div>`)
      .join('') +
    '</td></tr></table>'
  );
}

function tile(label: string, valueHtml: string, noteHtml = ''): string {
  return (
    `<td width="50%" valign="top" bgcolor="${C.card}" style="width:50%;padding:8px;border:1px solid ${C.rule};background-color:${C.card};color:${C.text};font-family:${FONT};${WRAP}">` +
    `<div style="font-size:11px;line-height:15px;color:${C.muted};text-transform:uppercase;letter-spacing:0.5px;">${e(label)}</div>` +
    `<div style="font-size:19px;line-height:26px;font-weight:bold;color:${C.text};">${valueHtml}</div>` +
    (noteHtml ? small(noteHtml) : '') +
    '</td>'
  );
}

function keyMetrics(model: ReportModel): string {
  const m = model.metrics;
  const p = model.previous.metrics;
  const hours = model.window.hours;
  const vsPrevious = (now: string, before: string) =>
    e(`${signedMoney(minus(now, before))} vs previous ${hours} h`);
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
        ? e(
            `USD at market, ${money(t.marketValue)} held${t.stale ? `; ${plural(t.stale, 'stale mark')}` : ''}`,
          )
        : 'no open lots',
    ),
    tile(
      'Win rate',
      e(percent(m.winRate)),
      e(
        `${plural(m.wins, 'win')}, ${plural(m.losses, 'loss', 'losses')}, ${m.breakeven} breakeven, ${m.unmatched} unmatched`,
      ),
    ),
    tile(
      'Profit factor',
      m.profitFactor === null ? na() : e(money(m.profitFactor)),
      m.profitFactor === null ? e(m.profitFactorNote ?? '') : 'gross profit / gross loss',
    ),
    tile('Expectancy', pnl(m.expectancy), 'USD per counted sell'),
    tile('Average win', pnl(m.averageWin), 'USD per winning sell'),
    tile('Average loss', pnl(m.averageLoss), 'USD per losing sell'),
    tile('Sells', e(String(m.sells)), e(`${signedCount(m.sells - p.sells)} vs previous ${hours} h`)),
    tile('Fees paid', e(money(m.fees)), e(`USD: buys ${money(m.buyFees)}, sells ${money(m.sellFees)}`)),
    tile(
      'Max drawdown',
      `<span style="white-space:nowrap;">${e(money(risk.maxDrawdown.usd))}</span>`,
      e(
        `USD, all time${risk.maxDrawdownPct ? `; ${ratioPercent(risk.maxDrawdownPct.ratio, 1)} at most` : '; % needs a starting equity'}`,
      ),
    ),
    tile(
      'Invested',
      e(ratioPercent(risk.investedRatio, 1)),
      risk.cash === null ? 'needs a starting equity' : e(`cash ${money(risk.cash)} USD`),
    ),
  ];
  const rows: string[] = [];
  for (let i = 0; i < tiles.length; i += 2) rows.push(`<tr>${tiles[i]}${tiles[i + 1] ?? ''}</tr>`);
  const rules = metricRules(model.window.timeZone)
    .map((r) => `<li style="margin:2px 0;">${e(r)}</li>`)
    .join('');
  return (
    heading(SECTION.metrics, `last ${hours} h`) +
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;border-collapse:collapse;table-layout:fixed;">${rows.join('')}</table>` +
    change(model) +
    `<ul style="margin:8px 0 0;padding:0 0 0 18px;font-size:11px;line-height:16px;color:${C.muted};${WRAP}">${rules}</ul>`
  );
}

/** The headline figures against the window before. */
function change(model: ReportModel): string {
  const m = model.metrics;
  const p = model.previous.metrics;
  const diff = (a: string | null, b: string | null) => (a === null || b === null ? null : minus(a, b));
  return (
    heading(
      SECTION.change,
      `previous ${model.window.hours} h: ${localTime(model.previous.start, model.window.timeZone)} to the window's start`,
    ) +
    dataTable(
      [
        { title: 'Figure' },
        { title: 'Now', align: 'right' },
        { title: 'Before', align: 'right' },
        { title: 'Change', align: 'right' },
      ],
      [
        ['Realized PnL', pnl(m.realizedPnl), pnl(p.realizedPnl), pnl(minus(m.realizedPnl, p.realizedPnl))],
        ['Sells', String(m.sells), String(p.sells), e(signedCount(m.sells - p.sells))],
        ['Win rate', e(percent(m.winRate)), e(percent(p.winRate)), e(pointsChange(m.winRate, p.winRate))],
        ['Expectancy', pnl(m.expectancy), pnl(p.expectancy), pnl(diff(m.expectancy, p.expectancy))],
        ['Fees', e(money(m.fees)), e(money(p.fees)), pnl(minus(m.fees, p.fees))],
      ],
    )
  );
}

const BAR_HEIGHT = 110;
const AXIS_WIDTH = '19%';

/** A cell's coloured block of `height` px: a nested table, which every client sizes. */
const block = (height: number, color: string, top = '') =>
  height <= 0
    ? ''
    : `<table width="100%" cellpadding="0" cellspacing="0" border="0"><tr><td data-bar="1" height="${height}" ` +
      `bgcolor="${color}" style="height:${height}px;font-size:0;line-height:0;${top}">&nbsp;</td></tr></table>`;

const axisLabel = (text: string, valign: 'top' | 'bottom' | 'middle', height: number) =>
  `<td height="${height}" valign="${valign}" align="right" style="height:${height}px;padding:0 4px 0 0;vertical-align:${valign};` +
  `font-size:10px;line-height:12px;color:${C.muted};white-space:nowrap;">${e(text)}</td>`;

/** The date labels under a chart: one per week, each under the day it names. */
function dateAxis(dates: readonly string[]): string {
  const step = 7;
  const cells: string[] = [];
  for (let i = 0; i < dates.length; i += step) {
    const span = Math.min(step, dates.length - i);
    const label = span >= 3 ? dates[i]!.slice(5) : '';
    cells.push(
      `<td colspan="${span}" align="left" valign="top" style="padding:3px 0 0;font-size:10px;line-height:12px;color:${C.muted};` +
        `white-space:nowrap;overflow:hidden;">${e(label)}</td>`,
    );
  }
  return `<tr><td style="font-size:10px;line-height:12px;color:${C.muted};padding:3px 4px 0 0;" align="right">date</td>${cells.join('')}</tr>`;
}

function chartTable(name: string, rows: string): string {
  return (
    `<table role="presentation" data-chart="${name}" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="${C.card}" ` +
    `style="width:100%;table-layout:fixed;border-collapse:collapse;background-color:${C.card};font-family:${FONT};">` +
    `<colgroup><col style="width:${AXIS_WIDTH};"></colgroup>${rows}</table>`
  );
}

/** Daily realized PnL: bars up (gain) and down (loss) from a zero line, values on the axis. */
function dailyChart(model: ReportModel, series: DailySeries): string {
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
  const barCell = (inner: string, height: number, valign: 'top' | 'bottom', border: string) =>
    `<td height="${height}" valign="${valign}" style="padding:0 1px;${border}">${inner}</td>`;
  const zeroLine = `border-bottom:1px solid ${C.axis};`;
  const upRow =
    upHeight > 0
      ? `<tr><td style="padding:0;" height="${upHeight}"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">` +
        `<tr>${axisLabel(signedMoney(top), 'top', upHeight - 12)}</tr><tr>${axisLabel('0', 'bottom', 12)}</tr></table></td>` +
        points
          .map((p) =>
            barCell(
              p.value.startsWith('-') || p.value === '0'
                ? ''
                : block(scaled(p.value, span, BAR_HEIGHT), C.gain),
              upHeight,
              'bottom',
              zeroLine,
            ),
          )
          .join('') +
        '</tr>'
      : '';
  const downRow =
    downHeight > 0
      ? `<tr><td style="padding:0;" height="${downHeight}"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">` +
        (upHeight === 0 ? `<tr>${axisLabel('0', 'top', 12)}</tr>` : '') +
        `<tr>${axisLabel(signedMoney(bottom), 'bottom', downHeight - (upHeight === 0 ? 12 : 0))}</tr></table></td>` +
        points
          .map((p) =>
            barCell(
              p.value.startsWith('-') ? block(scaled(p.value, span, BAR_HEIGHT), C.loss) : '',
              downHeight,
              'top',
              upHeight === 0 ? `border-top:1px solid ${C.axis};` : '',
            ),
          )
          .join('') +
        '</tr>'
      : '';
  const active = points.filter((p) => p.value !== '0');
  const last = points.at(-1);
  return (
    heading(
      `${SECTION.dailyChart}, last ${points.length} days`,
      `USD per day, days in ${model.chart.timeZone}`,
    ) +
    chartTable('daily-pnl', `${upRow}${downRow}${dateAxis(points.map((p) => p.date))}`) +
    paragraph(
      e(
        active.length === 0
          ? `No realized PnL from ${points[0]?.date} to ${last?.date}.`
          : `${last?.date}: ${signedMoney(last?.value ?? '0')} USD. Best day ${bestDay(active, 1)}, worst day ${bestDay(active, -1)}. ` +
              `Axis: USD from ${signedMoney(bottom)} to ${signedMoney(top)}; dates month-day.`,
      ),
    )
  );
}

/** The day with the highest (sign 1) or lowest (sign -1) value, as "2024-03-10 +20.63". */
const bestDay = (points: readonly { date: string; value: string }[], sign: 1 | -1) => {
  const pick = points.reduce((best, p) => (compare(p.value, best.value) * sign > 0 ? p : best));
  return `${pick.date} ${signedMoney(pick.value)}`;
};

/** The equity curve: a filled area from the axis's low to each day's value, with a line on top. */
function equityChart(model: ReportModel, series: CurveSeries): string {
  const H = BAR_HEIGHT;
  const { points, low, high } = series;
  const cells = points
    .map((p) => {
      // The value as a line (the cell's top border) over a filled area down to the axis's low.
      const h = Math.max(1, position(p.value, low, high, H) - 2);
      return (
        `<td height="${H}" valign="bottom" style="padding:0;border-bottom:1px solid ${C.axis};">` +
        block(h, C.curveFill, `border-top:2px solid ${C.curve};`) +
        '</td>'
      );
    })
    .join('');
  const axis =
    `<td style="padding:0;" height="${H}"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">` +
    `<tr>${axisLabel(money(high), 'top', H - 12)}</tr><tr>${axisLabel(money(low), 'bottom', 12)}</tr></table></td>`;
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
  return (
    heading(title, 'USD at the end of each day') +
    chartTable('equity', `<tr>${axis}${cells}</tr>${dateAxis(points.map((p) => p.date))}`) +
    paragraph(
      e(
        `${note}. At the end of ${last?.date}: ${series.kind === 'equity' ? money(last?.value ?? '0') : signedMoney(last?.value ?? '0')} USD` +
          ` (all-time realized PnL ${signedMoney(model.allTime.realizedPnl)} USD, as in Key metrics). ` +
          `Axis: ${money(low)} to ${money(high)} USD, not from zero.`,
      ),
    )
  );
}

function strategyTable(rows: readonly StrategyRow[]): string {
  return dataTable(
    [
      { title: 'Trigger', width: '30%' },
      { title: 'Realized', align: 'right' },
      { title: 'Results', align: 'right' },
      { title: 'Win rate', align: 'right' },
      { title: 'PF / exp.', align: 'right' },
    ],
    rows.map((r) => [
      `<b>${e(groupLabel(r.kind, r.name, 'trigger'))}</b>`,
      pnl(r.realizedPnl),
      `${r.sells}${small(e(`${r.wins}W ${r.losses}L ${r.breakeven}B ${r.unmatched}U`))}`,
      e(percent(r.winRate)),
      `${r.profitFactor === null ? na() : e(money(r.profitFactor))}${small(`exp. ${pnl(r.expectancy)}`)}`,
    ]),
  );
}

function usable<T>(input: Usable<T>, render: (value: T) => string): string {
  return input.ok ? render(input.value) : needsNote(input.needs);
}

function attribution(model: ReportModel): string {
  const a = model.attribution;
  const part = (title: string, input: Usable<StrategyRow[]>) =>
    `<div style="margin:12px 0 4px;font-size:13px;font-weight:bold;color:${C.text};">${e(title)}</div>` +
    usable(input, (rows) =>
      rows.length
        ? strategyTable(rows.slice(0, limits.groups)) + more(rows.length - limits.groups, 'triggers')
        : paragraph('No sells in the window.'),
    );
  return (
    heading(SECTION.attribution, 'entry and exit trigger') +
    part('By entry trigger (the buy)', a.entry) +
    part('By exit trigger (the sell)', a.exit) +
    (a.note ? paragraph(e(a.note)) : '') +
    paragraph(e(`${ATTRIBUTION_NOTE} W, L, B, U: wins, losses, breakeven, unmatched. exp.: expectancy.`))
  );
}

function sources(model: ReportModel): string {
  return (
    heading(SECTION.sources, 'trade_records.source') +
    usable(model.sources, (rows) =>
      rows.length === 0
        ? paragraph('No trades in the window.')
        : dataTable(
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
                `<b>${e(groupLabel(r.kind, r.name, 'source'))}</b>`,
                String(r.buys),
                String(r.sells),
                pnl(r.realizedPnl),
                pnl(r.entryPnl),
              ]),
          ) +
          more(rows.length - limits.groups, 'sources') +
          paragraph(e(SOURCES_NOTE)),
    )
  );
}

/** The best and the worst symbols when there are too many to show. */
function shownSymbols<T>(rows: readonly T[]): T[] {
  return rows.length <= limits.groups
    ? [...rows]
    : [...rows.slice(0, limits.groups / 2), ...rows.slice(rows.length - limits.groups / 2)];
}

function bySymbol(model: ReportModel): string {
  if (model.bySymbol.length === 0) return heading(SECTION.bySymbol) + paragraph('No trades in the window.');
  const hidden = model.bySymbol.length - shownSymbols(model.bySymbol).length;
  return (
    heading(SECTION.bySymbol, 'by realized PnL') +
    dataTable(
      [
        { title: 'Symbol', width: '26%' },
        { title: 'Realized', align: 'right' },
        { title: 'Sells', align: 'right' },
        { title: 'Win rate', align: 'right' },
        { title: 'PF / exp.', align: 'right' },
      ],
      shownSymbols(model.bySymbol).map((s) => [
        `<b>${e(s.symbol)}</b>`,
        `${pnl(s.realizedPnl)}${small(`fees ${e(money(s.fees))}`)}`,
        `${s.sells}${small(e(`${s.wins}W ${s.losses}L ${s.breakeven}B ${s.unmatched}U`))}`,
        `${e(percent(s.winRate))}${small(`${pnl(s.averageWin)} / ${pnl(s.averageLoss)}`)}`,
        `${s.profitFactor === null ? na() : e(money(s.profitFactor))}${small(`exp. ${pnl(s.expectancy)}`)}`,
      ]),
    ) +
    (hidden > 0
      ? paragraph(
          e(
            `The ${limits.groups / 2} best and ${limits.groups / 2} worst of ${model.bySymbol.length} symbols; the ${hidden} ` +
              'between them are in the plain-text part and the attached CSV (section symbol).',
          ),
        )
      : '') +
    paragraph(
      'W, L, B, U: wins, losses, breakeven and unmatched sells. Under the win rate: average win / average loss. ' +
        'exp.: expectancy per counted sell. Fees and amounts in USD.',
    )
  );
}

function market(model: ReportModel): string {
  const mk = model.market;
  const tz = model.window.timeZone;
  const source = mk.priceTable
    ? `marks from ${mk.priceTable}, else last fill`
    : 'marks: last fill (no price table)';
  if (mk.positions.length === 0)
    return (
      heading(SECTION.market) +
      (mk.priceTableNeeds ? needsNote(mk.priceTableNeeds) : '') +
      paragraph('No open lots.')
    );
  const t = mk.totals;
  return (
    heading(SECTION.market, source) +
    (mk.priceTableNeeds
      ? needsNote(`${mk.priceTableNeeds}. Marks fall back to each symbol's last fill.`)
      : '') +
    dataTable(
      [
        { title: 'Symbol / size', width: '34%' },
        { title: 'Mark', align: 'right' },
        { title: 'Value / cost', align: 'right' },
        { title: 'Unrealized', align: 'right' },
      ],
      mk.positions
        .slice(0, limits.groups)
        .map((p) => [
          `<b>${e(p.symbol)}</b>${small(
            e(
              `${quantity(p.size)} @ ${price(p.averageCost)}; ${plural(p.lots, 'lot')}, oldest ${duration(p.oldestLotAgeSeconds)}`,
            ),
          )}`,
          p.mark
            ? `${e(price(p.mark.price))}${small(
                `${e(p.mark.source)}, ${e(duration(p.mark.ageSeconds))} old` +
                  (p.mark.stale ? ` <b style="color:${C.loss};">STALE</b>` : ''),
              )}`
            : `${na()}${small('no price, no fill')}`,
          `${p.marketValue === null ? na() : e(money(p.marketValue))}${small(`cost ${e(money(p.costBasis))}`)}`,
          pnl(p.unrealizedPnl),
        ]),
      [
        'Total',
        t.stale ? `<span style="color:${C.loss};">${e(plural(t.stale, 'stale mark'))}</span>` : '',
        `${e(money(t.marketValue))}${small(`cost ${e(money(t.costBasis))}`)}`,
        pnl(t.unrealizedPnl),
      ],
    ) +
    more(mk.positions.length - limits.groups, 'positions (the total counts them)') +
    paragraph(
      e(
        `${MARKET_NOTE} A mark older than ${duration(mk.staleMarkMinutes * 60)} is STALE.` +
          (t.unmarked
            ? ` ${plural(t.unmarked, 'position')} without a mark: at cost ${money(t.unmarkedCost)} in exposure.`
            : '') +
          ` Oldest lot times in ${tz}.`,
      ),
    )
  );
}

function taxYtd(model: ReportModel): string {
  const ty = model.taxYtd;
  const row = (label: string, t: { realizedPnl: string; slices: number }) => [
    `<span style="color:${C.muted};">${e(label)}</span>`,
    pnl(t.realizedPnl),
    e(String(t.slices)),
  ];
  return (
    heading(TAX_YTD_TITLE, `${ty.from} to ${ty.through}, ${ty.timeZone}`) +
    dataTable(
      [{ title: 'Realized' }, { title: 'PnL', align: 'right' }, { title: 'Slices', align: 'right' }],
      [
        row('Short-term', ty.shortTerm),
        row('Long-term', ty.longTerm),
        row('Unmatched (no lot)', ty.unmatched),
      ],
    ) +
    paragraph(e(turningSummary(ty.turning, signedMoney)))
  );
}

function risk(model: ReportModel): string {
  const r = model.risk;
  const dd = r.maxDrawdown;
  const tz = model.window.timeZone;
  const equity = r.startingEquity;
  const rows: [string, string][] = [
    [
      'Starting equity',
      (equity.source === 'none' ? na() : e(money(equity.amount))) + small(e(equitySourceText(equity))),
    ],
    [
      'Max drawdown (USD)',
      `${e(money(dd.usd))}${dd.at ? small(e(`from ${money(dd.peak)} to ${money(dd.trough)}, ${localTime(dd.at, tz)}`)) : small('none')}`,
    ],
    [
      'Max drawdown (%)',
      r.maxDrawdownPct
        ? `${e(ratioPercent(r.maxDrawdownPct.ratio, 2))}${
            r.maxDrawdownPct.at
              ? small(
                  e(
                    `from ${money(r.maxDrawdownPct.peak)} to ${money(r.maxDrawdownPct.trough)}, ${localTime(r.maxDrawdownPct.at, tz)}`,
                  ),
                )
              : ''
          }`
        : `${na()}${small('needs a starting equity')}`,
    ],
    ['Realized equity now', r.realizedEquity === null ? na() : e(money(r.realizedEquity))],
    ['Cash', r.cash === null ? `${na()}${small('needs a starting equity')}` : e(money(r.cash))],
    ['Open positions at market', e(money(r.exposure))],
    [
      'Invested',
      r.investedRatio === null
        ? `${na()}${small('needs a starting equity and positive equity')}`
        : e(ratioPercent(r.investedRatio, 2)),
    ],
  ];
  return (
    heading(SECTION.risk, 'USD') +
    (r.cashTransactionsNeeds && equity.source !== 'cash_transactions'
      ? needsNote(`starting equity from ${r.cashTransactionsNeeds}`)
      : '') +
    dataTable(
      [{ title: 'Figure' }, { title: 'Value', align: 'right' }],
      rows.map(([k, v]) => [`<span style="color:${C.muted};">${e(k)}</span>`, v]),
    ) +
    paragraph(e(RISK_NOTE))
  );
}

function costs(model: ReportModel): string {
  const c = model.costs;
  const rows: [string, string][] = [
    [
      'Fees in the window',
      `${e(money(c.fees))}${small(e(`buys ${money(c.buyFees)}, sells ${money(c.sellFees)}`))}`,
    ],
    ['Traded volume', e(money(c.volume))],
    ['Observed fee rate', `${e(ratioPercent(c.observedRate, 3))}${small('fees / volume')}`],
    [
      'Break-even move, maker',
      `${e(ratioPercent(c.breakEvenMaker, 3))}${small(e(`${ratioPercent(c.makerRate, 3)} in and out`))}`,
    ],
    [
      'Break-even move, taker',
      `${e(ratioPercent(c.breakEvenTaker, 3))}${small(e(`${ratioPercent(c.takerRate, 3)} in and out`))}`,
    ],
    ['Break-even move, observed', e(ratioPercent(c.breakEvenObserved, 3))],
  ];
  return (
    heading(SECTION.costs, 'USD') +
    dataTable(
      [{ title: 'Figure' }, { title: 'Value', align: 'right' }],
      rows.map(([k, v]) => [`<span style="color:${C.muted};">${e(k)}</span>`, v]),
    ) +
    paragraph(
      'Break-even move: how far the price must rise between buy and sell for a round trip to cover both fees, ' +
        '(1 + buy rate) / (1 - sell rate) - 1. Rates: REPORT_MAKER_FEE and REPORT_TAKER_FEE.',
    )
  );
}

function holding(model: ReportModel): string {
  if (model.holding.length === 0)
    return heading(SECTION.holding) + paragraph('No lot slices sold in the window.');
  return (
    heading(SECTION.holding, 'size-weighted') +
    dataTable(
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
        h.symbol === null ? '<b>All</b>' : `<b>${e(h.symbol)}</b>`,
        `${h.slices}${small(e(h.weightedBy === 'usd' ? `cost ${money(h.weight)} USD` : `size ${quantity(h.weight)}`))}`,
        e(duration(h.medianSeconds)),
        e(duration(h.p90Seconds)),
      ]),
    ) +
    more(model.holding.length - 1 - limits.rows, 'symbols') +
    paragraph(e(HOLDING_NOTE))
  );
}

function roundtrips(model: ReportModel): string {
  const r = model.roundtrips;
  const total = r.groups.at(-1)!;
  const title = heading(SECTION.roundtrips, `held ${duration(r.thresholdSeconds)} or less`);
  if (total.slices === 0) return title + paragraph(e(`None in the window. ${ROUNDTRIP_NOTE}`));
  const tz = model.window.timeZone;
  return (
    title +
    dataTable(
      [
        { title: 'Symbol', width: '30%' },
        { title: 'Slices', align: 'right' },
        { title: 'PnL', align: 'right' },
        { title: 'Fees', align: 'right' },
      ],
      [...r.groups.slice(0, -1).slice(0, limits.rows), total].map((g) => [
        g.symbol === null ? '<b>All</b>' : `<b>${e(g.symbol)}</b>`,
        `${g.slices}${small(e(plural(g.sells, 'sell')))}`,
        pnl(g.pnl),
        e(money(g.fees)),
      ]),
    ) +
    dataTable(
      [{ title: 'Time / sell' }, { title: 'Held', align: 'right' }, { title: 'PnL', align: 'right' }],
      r.slices
        .slice(0, limits.rows)
        .map((s) => [
          `${e(localTime(s.sell_time!, tz))} ${e(s.symbol ?? '')}${smallId(e(s.sell_order_id ?? ''))}`,
          e(duration(Number(s.holding_seconds))),
          `${pnl(s.pnl_usd)}${small(`fees ${e(money(s.fees_usd))}`)}`,
        ]),
    ) +
    more(r.slices.length - limits.rows, 'slices', 'the attached CSV lists them (section roundtrip)') +
    paragraph(e(ROUNDTRIP_NOTE))
  );
}

function movers(model: ReportModel): string {
  const { best, worst } = model.movers;
  if (best.length + worst.length === 0)
    return heading(SECTION.movers) + paragraph('No counted sells in the window.');
  const tz = model.window.timeZone;
  const rows = [...best, ...worst].map((m) => [
    `${e(localTime(m.sellTime, tz))} <b>${e(m.symbol)}</b>` +
      `<div style="margin-top:2px;font-family:Menlo,Consolas,monospace;font-size:11px;line-height:15px;color:${C.text};` +
      `background-color:${C.faint};padding:2px 4px;${WRAP}">${e(m.command)}</div>`,
    pnl(m.pnl),
  ]);
  return (
    heading(SECTION.movers, 'best and worst sells of the window') +
    dataTable([{ title: 'Sell' }, { title: 'PnL', align: 'right' }], rows) +
    paragraph(e(MOVERS_NOTE))
  );
}

function unmatched(model: ReportModel): string {
  const tz = model.window.timeZone;
  const list = model.unmatchedSells;
  if (list.length === 0)
    return (
      heading(SECTION.unmatched, 'in the window') +
      paragraph('None: every sell in the window found open lots.')
    );
  return (
    heading(SECTION.unmatched, `in the window: ${list.length}`) +
    dataTable(
      [
        { title: 'Time / sell', width: '40%' },
        { title: 'Unmatched size', align: 'right' },
        { title: 'Proceeds', align: 'right' },
      ],
      list
        .slice(0, limits.rows)
        .map((u) => [
          `${e(localTime(u.sellTime, tz))} <b>${e(u.symbol)}</b>${smallId(e(u.sellOrderId))}`,
          `${e(quantity(u.unmatchedSize))}${small(e(`of ${quantity(u.sellSize)} sold`))}`,
          `${e(money(u.proceeds))}${small(e(`@ ${price(u.sellPrice)}`))}`,
        ]),
    ) +
    more(list.length - limits.rows, 'unmatched sells', 'the attached CSV lists them (buy_order_id empty)') +
    paragraph(e(UNMATCHED_WHY), C.text)
  );
}

function health(model: ReportModel): string {
  const h = model.health.status;
  const tz = model.window.timeZone;
  const at = new Date(model.generatedAt);
  const run = (r: typeof h.lastSuccess.full) =>
    r
      ? `${e(localTime(r.startedAt, tz))}${small(e(`${duration(ageSeconds(r.startedAt, at))} ago`))}`
      : 'never';
  const failed = (r: typeof h.lastRun.full) =>
    r?.status === 'failed'
      ? `<div style="font-size:11px;color:${C.loss};">last run failed ${e(localTime(r.startedAt, tz))}</div>`
      : '';
  const unmatchedBySymbol = h.unmatchedSells.bySymbol
    .slice(0, 5)
    .map((u) => `${u.symbol} ${plural(u.sells, 'sell')}`)
    .join(', ');
  const rows: [string, string][] = [
    ['Verdict', `<b style="color:${BANNER[model.health.verdict].edge};">${model.health.verdict}</b>`],
    ['Last successful incremental run', run(h.lastSuccess.incremental) + failed(h.lastRun.incremental)],
    ['Last successful full rebuild', run(h.lastSuccess.full) + failed(h.lastRun.full)],
    ['Lag', e(`${duration(h.lagSeconds)}, ${plural(h.pendingChanges, 'pending change')}`)],
    [
      'Last drift',
      h.lastDrift
        ? e(`${plural(h.lastDrift.rows, 'row')}, ${h.lastDrift.usd} USD`) +
          small(e(localTime(h.lastDrift.at, tz)))
        : 'no full rebuild yet',
    ],
    [
      'Unmatched sells',
      e(
        `${new Set(model.unmatchedSells.map((u) => u.sellOrderId)).size} in the window, ${h.unmatchedSells.count} all time`,
      ) + (unmatchedBySymbol ? small(e(unmatchedBySymbol)) : ''),
    ],
    ['Rejected trades', e(String(h.rejectedTrades))],
    [
      'Abandoned / failed runs',
      e(
        `${h.abandonedRuns} abandoned, ${model.health.failedRunsInWindow} failed in the window` +
          (h.runInProgress ? '; a run is in progress' : ''),
      ),
    ],
    ['Allocations / open lots', e(`${h.allocations} / ${h.openLots}`)],
  ];
  const reasons = model.health.reasons.length
    ? `<ul style="margin:8px 0 0;padding:0 0 0 18px;font-size:12px;line-height:17px;color:${C.text};${WRAP}">${model.health.reasons
        .map((r) => `<li style="margin:2px 0;"><b>${e(r.level)}</b>: ${e(r.text)}</li>`)
        .join('')}</ul>`
    : '';
  return (
    heading(SECTION.health, `version ${model.version}`) +
    dataTable(
      [{ title: 'Check' }, { title: 'Status' }],
      rows.map(([k, v]) => [`<span style="color:${C.muted};">${e(k)}</span>`, v]),
    ) +
    reasons
  );
}

function legacy(model: ReportModel): string {
  const l = model.legacy;
  if (!l) return '';
  const tz = model.window.timeZone;
  const title = heading(SECTION.legacy, `legacy ${l.columns.join(' or ')} vs FIFO`);
  if (l.rows.length === 0)
    return (
      title +
      paragraph(
        e(
          `No sell in the window has a legacy value${l.withoutLegacy ? ` (${plural(l.withoutLegacy, 'sell')} without one)` : ''}.`,
        ),
      )
    );
  return (
    title +
    paragraph(
      e(`${plural(l.rows.length, 'sell')} compared, ${l.withoutLegacy} without a legacy value. `) +
        `Total difference: <b>${pnl(l.totalDifference)}</b> USD.`,
      C.text,
    ) +
    dataTable(
      [
        { title: 'Time / sell' },
        { title: 'Legacy', align: 'right' },
        { title: 'FIFO', align: 'right' },
        { title: 'Difference', align: 'right' },
      ],
      l.rows
        .slice(0, limits.rows)
        .map((r) => [
          `${e(localTime(r.sellTime, tz))} ${e(r.symbol)}${smallId(e(r.sellOrderId))}`,
          pnl(r.legacyPnl),
          pnl(r.fifoPnl),
          pnl(r.difference),
        ]),
      ['Total', pnl(l.legacyTotal), pnl(l.fifoTotal), pnl(l.totalDifference)],
    ) +
    more(l.rows.length - limits.rows, 'with smaller differences', 'the plain-text part lists them') +
    paragraph(e(LEGACY_NOTE))
  );
}

export function renderHtml(
  model: ReportModel,
  options: { subject?: string; csvFileName?: string } = {},
): string {
  let html = '';
  for (const tried of LIMITS) {
    limits = tried;
    try {
      html = renderWithLimits(model, options);
    } finally {
      limits = LIMITS[0];
    }
    if (Buffer.byteLength(html, 'utf8') <= HTML_BUDGET) break;
  }
  return html;
}

function renderWithLimits(model: ReportModel, options: { subject?: string; csvFileName?: string }): string {
  const w = model.window;
  const tz = w.timeZone;
  const m = model.metrics;
  // The inbox's preview line: the verdict, the PnL, the strategies.
  const strategies = summaryLines(model).find((line) => /^(Top|Only) strategy/.test(line));
  const preheader =
    `${model.health.verdict}: realized PnL ${signedMoney(m.realizedPnl)} USD in ${w.hours} h, ${plural(m.sells, 'sell')}` +
    (strategies ? `. ${strategies}` : '');
  const sections = [
    keyMetrics(model),
    dailyChart(model, dailySeries(model)),
    equityChart(model, curveSeries(model)),
    attribution(model),
    sources(model),
    bySymbol(model),
    market(model),
    taxYtd(model),
    risk(model),
    costs(model),
    holding(model),
    roundtrips(model),
    movers(model),
    unmatched(model),
    health(model),
    legacy(model),
  ];
  const attached = options.csvFileName
    ? `Attached: ${e(options.csvFileName)} (${e(plural(model.allocationsInWindow, 'allocation row'))} of the window, ` +
      'then the attribution, sources, symbols, open positions at market and roundtrips, exact values; column section says which). '
    : '';
  const footer = `${attached}Generated by fifo-ledger at ${e(localTime(model.generatedAt, tz))}. Amounts in USD.`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<meta name="color-scheme" content="light only">
<meta name="supported-color-schemes" content="light only">
<title>${e(options.subject ?? `fifo-ledger daily report ${w.date}`)}</title>
</head>
<body bgcolor="${C.page}" style="margin:0;padding:0;background-color:${C.page};color:${C.text};">
<div style="display:none;max-height:0;overflow:hidden;opacity:0;">${e(preheader)}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="${C.page}" style="width:100%;background-color:${C.page};">
<tr><td align="center" style="padding:8px 4px;">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" bgcolor="${C.card}" style="width:100%;max-width:600px;background-color:${C.card};border:1px solid ${C.rule};font-family:${FONT};color:${C.text};">
<tr><td style="padding:0;">${banner(model)}</td></tr>
<tr><td bgcolor="${C.card}" style="padding:12px 10px 24px;background-color:${C.card};color:${C.text};font-family:${FONT};">
<h1 style="margin:0;font-size:18px;line-height:24px;color:${C.text};">fifo-ledger daily report, ${e(w.date)}</h1>
<div style="margin-top:2px;font-size:12px;line-height:17px;color:${C.muted};${WRAP}">${e(`${w.hours} h to ${localTime(w.end, tz)}, from ${localTime(w.start, tz)} (version ${model.version})`)}</div>
${summary(model)}
${sections.join('\n')}
<p style="margin:24px 0 0;padding-top:12px;border-top:1px solid ${C.rule};font-size:11px;line-height:16px;color:${C.muted};${WRAP}">${footer}</p>
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
`;
}
