/**
 * The HTML email body. Email clients ignore <style> blocks and scripts, so the layout is
 * nested tables with inline CSS only: a 600 px container that shrinks to the screen
 * (width:100%; max-width:600px), tiles two per row, tables of at most six columns, and the
 * cumulative PnL chart as table cells with coloured blocks (no JavaScript, no images).
 * Every value from the database is escaped.
 */
import { Decimal } from 'decimal.js';
import { LEGACY_NOTE, POSITIONS_NOTE, plural, SECTION, TABLE_LIMIT, UNMATCHED_WHY } from './copy.ts';
import {
  duration,
  escapeHtml as e,
  localTime,
  money,
  percent,
  price,
  quantity,
  signedMoney,
} from './format.ts';
import { metricRules } from './metrics.ts';
import type { ChartDay, ReportModel } from './model.ts';
import type { Verdict } from './verdict.ts';
import { ageSeconds } from './verdict.ts';

const FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
const C = {
  text: '#1f2937',
  muted: '#6b7280',
  rule: '#e5e7eb',
  faint: '#f3f4f6',
  gain: '#15803d',
  loss: '#b91c1c',
  page: '#f3f4f6',
};

const BANNER: Record<Verdict, { bg: string; edge: string; fg: string; headline: string }> = {
  OK: { bg: '#dcfce7', edge: '#15803d', fg: '#14532d', headline: 'OK: figures are fresh and consistent' },
  WARNING: {
    bg: '#fef3c7',
    edge: '#b45309',
    fg: '#78350f',
    headline: 'WARNING: figures are current, check below',
  },
  STALE: { bg: '#fee2e2', edge: '#b91c1c', fg: '#7f1d1d', headline: 'STALE: figures may be out of date' },
  FAILED: {
    bg: '#fee2e2',
    edge: '#7f1d1d',
    fg: '#7f1d1d',
    headline: 'FAILED: the last run failed, see below',
  },
};

const pnlColor = (text: string) => (text.startsWith('-') ? C.loss : /[1-9]/.test(text) ? C.gain : C.text);

/** A PnL amount, coloured by sign. */
const pnl = (text: string | null) =>
  text === null
    ? `<span style="color:${C.muted};">n/a</span>`
    : `<span style="color:${pnlColor(text)};white-space:nowrap;">${e(signedMoney(text))}</span>`;

const small = (html: string) =>
  `<div style="font-size:11px;line-height:15px;color:${C.muted};">${html}</div>`;

function heading(title: string, note = ''): string {
  return (
    `<h2 style="margin:24px 0 8px;font-size:16px;line-height:22px;color:${C.text};font-family:${FONT};">${e(title)}` +
    (note ? ` <span style="font-size:12px;font-weight:normal;color:${C.muted};">${e(note)}</span>` : '') +
    '</h2>'
  );
}

const paragraph = (html: string, color = C.muted) =>
  `<p style="margin:8px 0 0;font-size:12px;line-height:17px;color:${color};">${html}</p>`;

interface Column {
  readonly title: string;
  readonly align?: 'left' | 'right';
}

/** A data table: header row, rows of pre-rendered HTML cells, numbers right-aligned. */
function dataTable(columns: readonly Column[], rows: readonly string[][], footer?: string[]): string {
  const cell = (tag: 'th' | 'td', html: string, i: number, extra = '') => {
    const align = columns[i]?.align ?? 'left';
    const base =
      tag === 'th'
        ? `padding:6px 4px;border-bottom:2px solid ${C.rule};font-size:11px;font-weight:bold;color:${C.muted};`
        : `padding:6px 4px;border-bottom:1px solid ${C.faint};font-size:13px;color:${C.text};`;
    return `<${tag} align="${align}" valign="top" style="${base}text-align:${align};${extra}">${html}</${tag}>`;
  };
  const head = `<tr>${columns.map((c, i) => cell('th', e(c.title), i)).join('')}</tr>`;
  const body = rows.map((r) => `<tr>${r.map((html, i) => cell('td', html, i)).join('')}</tr>`).join('');
  const foot = footer
    ? `<tr>${footer.map((html, i) => cell('td', html, i, 'font-weight:bold;border-bottom:0;')).join('')}</tr>`
    : '';
  return (
    `<table width="100%" cellpadding="0" cellspacing="0" border="0" ` +
    `style="width:100%;border-collapse:collapse;font-family:${FONT};font-variant-numeric:tabular-nums;">` +
    `${head}${body}${foot}</table>`
  );
}

function banner(model: ReportModel): string {
  const b = BANNER[model.health.verdict];
  const reasons = model.health.reasons.length
    ? `<ul style="margin:6px 0 0;padding:0 0 0 18px;font-size:13px;line-height:18px;">${model.health.reasons
        .map((r) => `<li style="margin:2px 0;"><b>${e(r.level)}</b>: ${e(r.text)}</li>`)
        .join('')}</ul>`
    : `<div style="margin-top:4px;font-size:13px;line-height:18px;">Fresh, no drift, nothing unmatched or rejected.</div>`;
  return (
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;">` +
    `<tr><td style="padding:14px 12px;background-color:${b.bg};border-left:6px solid ${b.edge};color:${b.fg};font-family:${FONT};">` +
    `<div style="font-size:18px;line-height:24px;font-weight:bold;">${e(b.headline)}</div>${reasons}</td></tr></table>`
  );
}

function tile(label: string, valueHtml: string, noteHtml = ''): string {
  return (
    `<td width="50%" valign="top" style="width:50%;padding:8px;border:1px solid ${C.rule};font-family:${FONT};">` +
    `<div style="font-size:11px;line-height:15px;color:${C.muted};text-transform:uppercase;letter-spacing:0.5px;">${e(label)}</div>` +
    `<div style="font-size:20px;line-height:28px;font-weight:bold;color:${C.text};">${valueHtml}</div>` +
    (noteHtml ? small(noteHtml) : '') +
    '</td>'
  );
}

function keyMetrics(model: ReportModel): string {
  const m = model.metrics;
  const tiles = [
    tile('Realized PnL', `${pnl(m.realizedPnl)}`, `USD, last ${model.window.hours} h`),
    tile(
      'All-time realized PnL',
      pnl(model.allTime.realizedPnl),
      `USD, ${plural(model.allTime.sells, 'sell')}`,
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
      m.profitFactor === null ? `<span style="color:${C.muted};">n/a</span>` : e(money(m.profitFactor)),
      m.profitFactor === null ? e(m.profitFactorNote ?? '') : 'gross profit / gross loss',
    ),
    tile('Average win', pnl(m.averageWin), 'USD per winning sell'),
    tile('Average loss', pnl(m.averageLoss), 'USD per losing sell'),
    tile('Sells', e(String(m.sells)), `in the window`),
    tile('Fees paid', e(money(m.fees)), e(`USD: buys ${money(m.buyFees)}, sells ${money(m.sellFees)}`)),
  ];
  const rows: string[] = [];
  for (let i = 0; i < tiles.length; i += 2) rows.push(`<tr>${tiles[i]}${tiles[i + 1]}</tr>`);
  const rules = metricRules(model.window.timeZone)
    .map((r) => `<li style="margin:2px 0;">${e(r)}</li>`)
    .join('');
  return (
    heading(SECTION.metrics, `last ${model.window.hours} h`) +
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;border-collapse:collapse;">${rows.join('')}</table>` +
    `<ul style="margin:8px 0 0;padding:0 0 0 18px;font-size:11px;line-height:16px;color:${C.muted};">${rules}</ul>`
  );
}

function bySymbol(model: ReportModel): string {
  if (model.bySymbol.length === 0) return heading(SECTION.bySymbol) + paragraph('No trades in the window.');
  return (
    heading(SECTION.bySymbol, 'by realized PnL') +
    dataTable(
      [
        { title: 'Symbol' },
        { title: 'Realized', align: 'right' },
        { title: 'Sells', align: 'right' },
        { title: 'Win rate', align: 'right' },
        { title: 'Avg win/loss', align: 'right' },
        { title: 'PF', align: 'right' },
      ],
      model.bySymbol.map((s) => [
        `<b style="white-space:nowrap;">${e(s.symbol)}</b>`,
        `${pnl(s.realizedPnl)}${small(`fees ${e(money(s.fees))}`)}`,
        `${s.sells}${small(e(`${s.wins}W ${s.losses}L ${s.breakeven}B ${s.unmatched}U`))}`,
        e(percent(s.winRate)),
        `${pnl(s.averageWin)}<br>${pnl(s.averageLoss)}`,
        s.profitFactor === null ? `<span style="color:${C.muted};">n/a</span>` : e(money(s.profitFactor)),
      ]),
    ) +
    paragraph('W, L, B, U: wins, losses, breakeven and unmatched sells. Fees in USD.')
  );
}

/** Bars of the running total, positive up and negative down from one baseline. */
function chart(model: ReportModel): string {
  const days: readonly ChartDay[] = model.chart.days;
  const values = days.map((d) => new Decimal(d.cumulative));
  const maxPos = Decimal.max(0, ...values);
  const maxNeg = Decimal.max(0, ...values.map((v) => v.neg()));
  const span = maxPos.plus(maxNeg);
  const HEIGHT = 120;
  const upHeight = span.isZero() ? HEIGHT : Math.round(maxPos.div(span).times(HEIGHT).toNumber());
  const downHeight = HEIGHT - upHeight;
  const width = `${(100 / days.length).toFixed(2)}%`;
  const px = (v: Decimal) =>
    span.isZero() || v.isZero() ? 0 : Math.max(1, Math.round(v.abs().div(span).times(HEIGHT).toNumber()));
  const block = (height: number, color: string) =>
    height === 0
      ? ''
      : `<div style="height:${height}px;line-height:${height}px;font-size:1px;background-color:${color};">&nbsp;</div>`;
  const title = (d: ChartDay) =>
    e(`${d.date}: day ${signedMoney(d.pnl)}, cumulative ${signedMoney(d.cumulative)} USD`);
  const up = days
    .map((d, i) => {
      const v = values[i]!;
      return (
        `<td width="${width}" height="${upHeight}" valign="bottom" title="${title(d)}" ` +
        `style="width:${width};height:${upHeight}px;padding:0 1px;vertical-align:bottom;border-bottom:1px solid ${C.muted};">` +
        `${v.isPositive() && !v.isZero() ? block(px(v), C.gain) : ''}</td>`
      );
    })
    .join('');
  const down =
    downHeight > 0
      ? `<tr>${days
          .map((d, i) => {
            const v = values[i]!;
            return (
              `<td width="${width}" height="${downHeight}" valign="top" title="${title(d)}" ` +
              `style="width:${width};height:${downHeight}px;padding:0 1px;vertical-align:top;">` +
              `${v.isNegative() ? block(px(v), C.loss) : ''}</td>`
            );
          })
          .join('')}</tr>`
      : '';
  const last = days.at(-1);
  const active = days.some((d) => d.pnl !== '0');
  const labels =
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;font-family:${FONT};font-size:11px;color:${C.muted};">` +
    `<tr><td align="left" style="padding-top:4px;">${e(days[0]?.date ?? '')}</td>` +
    `<td align="right" style="padding-top:4px;">${e(last?.date ?? '')}</td></tr></table>`;
  return (
    heading(`${SECTION.chart}, last ${days.length} days`, `days in ${model.chart.timeZone}`) +
    `<div style="font-size:13px;color:${C.text};margin:0 0 8px;font-family:${FONT};">Running total at the end of ${e(last?.date ?? '')}: ` +
    `<b>${pnl(last?.cumulative ?? '0')}</b> USD` +
    (active ? '' : ` <span style="color:${C.muted};">(no realized PnL in these days)</span>`) +
    '</div>' +
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;table-layout:fixed;border-collapse:collapse;">` +
    `<tr>${up}</tr>${down}</table>${labels}` +
    paragraph(
      `One bar per day: the realized PnL summed from ${e(days[0]?.date ?? '')} to the end of that day. ` +
        `<span style="color:${C.gain};">Green</span> above the line is a gain, <span style="color:${C.loss};">red</span> below a loss.`,
    )
  );
}

function positions(model: ReportModel): string {
  const tz = model.window.timeZone;
  if (model.openPositions.length === 0) return heading(SECTION.positions) + paragraph('No open lots.');
  return (
    heading(SECTION.positions, 'from the lots, now') +
    dataTable(
      [
        { title: 'Symbol' },
        { title: 'Size', align: 'right' },
        { title: 'Avg cost', align: 'right' },
        { title: 'Cost basis', align: 'right' },
        { title: 'Oldest lot', align: 'right' },
      ],
      model.openPositions.map((p) => [
        `<b style="white-space:nowrap;">${e(p.symbol)}</b>${small(e(plural(p.lots, 'lot')))}`,
        e(quantity(p.size)),
        e(price(p.averageCost)),
        e(money(p.costBasis)),
        `${e(duration(p.oldestLotAgeSeconds))}${small(e(localTime(p.oldestLotTime, tz)))}`,
      ]),
    ) +
    paragraph(e(POSITIONS_NOTE))
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
        { title: 'Time / sell' },
        { title: 'Symbol' },
        { title: 'Unmatched size', align: 'right' },
        { title: 'Proceeds', align: 'right' },
      ],
      list
        .slice(0, TABLE_LIMIT)
        .map((u) => [
          `${e(localTime(u.sellTime, tz))}<div style="font-size:11px;line-height:15px;color:${C.muted};word-break:break-all;">${e(u.sellOrderId)}</div>`,
          `<span style="white-space:nowrap;">${e(u.symbol)}</span>`,
          `${e(quantity(u.unmatchedSize))}${small(e(`of ${quantity(u.sellSize)} sold`))}`,
          `${e(money(u.proceeds))}${small(e(`@ ${price(u.sellPrice)}`))}`,
        ]),
    ) +
    (list.length > TABLE_LIMIT
      ? paragraph(
          e(`... and ${list.length - TABLE_LIMIT} more: the attached CSV lists them (buy_order_id empty).`),
        )
      : '') +
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
      ),
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
  return (
    heading(SECTION.health, `version ${model.version}`) +
    dataTable(
      [{ title: 'Check' }, { title: 'Status' }],
      rows.map(([k, v]) => [`<span style="color:${C.muted};">${e(k)}</span>`, v]),
    )
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
        .slice(0, TABLE_LIMIT)
        .map((r) => [
          `${e(localTime(r.sellTime, tz))} ${e(r.symbol)}<div style="font-size:11px;line-height:15px;color:${C.muted};word-break:break-all;">${e(r.sellOrderId)}</div>`,
          pnl(r.legacyPnl),
          pnl(r.fifoPnl),
          pnl(r.difference),
        ]),
      ['Total', pnl(l.legacyTotal), pnl(l.fifoTotal), pnl(l.totalDifference)],
    ) +
    (l.rows.length > TABLE_LIMIT
      ? paragraph(e(`... and ${l.rows.length - TABLE_LIMIT} more with smaller differences.`))
      : '') +
    paragraph(e(LEGACY_NOTE))
  );
}

export function renderHtml(
  model: ReportModel,
  options: { subject?: string; csvFileName?: string } = {},
): string {
  const w = model.window;
  const tz = w.timeZone;
  const m = model.metrics;
  const preheader = `${model.health.verdict}: realized PnL ${signedMoney(m.realizedPnl)} USD in ${w.hours} h, ${plural(m.sells, 'sell')}`;
  const sections = [
    keyMetrics(model),
    bySymbol(model),
    chart(model),
    positions(model),
    unmatched(model),
    health(model),
    legacy(model),
  ];
  const attached = options.csvFileName
    ? `Attached: ${e(options.csvFileName)} (${e(plural(model.allocationsInWindow, 'allocation row'))} of the window, exact values). `
    : '';
  const footer = `${attached}Generated by fifo-ledger at ${e(localTime(model.generatedAt, tz))}. Amounts in USD.`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<title>${e(options.subject ?? `fifo-ledger daily report ${w.date}`)}</title>
</head>
<body style="margin:0;padding:0;background-color:${C.page};">
<div style="display:none;max-height:0;overflow:hidden;opacity:0;">${e(preheader)}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;background-color:${C.page};">
<tr><td align="center" style="padding:12px 6px;">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:600px;background-color:#ffffff;border:1px solid ${C.rule};font-family:${FONT};color:${C.text};">
<tr><td style="padding:0;">${banner(model)}</td></tr>
<tr><td style="padding:16px 12px 24px;font-family:${FONT};">
<h1 style="margin:0;font-size:20px;line-height:26px;color:${C.text};">fifo-ledger daily report, ${e(w.date)}</h1>
<div style="margin-top:4px;font-size:12px;line-height:17px;color:${C.muted};">${e(`${w.hours} h to ${localTime(w.end, tz)}, from ${localTime(w.start, tz)} (version ${model.version})`)}</div>
${sections.join('\n')}
<p style="margin:24px 0 0;padding-top:12px;border-top:1px solid ${C.rule};font-size:11px;line-height:16px;color:${C.muted};">${footer}</p>
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
`;
}
