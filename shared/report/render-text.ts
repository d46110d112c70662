/** The plain-text email body: the same sections as the HTML, in fixed-width columns. */
import { Decimal } from 'decimal.js';
import { LEGACY_NOTE, POSITIONS_NOTE, plural, SECTION, TABLE_LIMIT, UNMATCHED_WHY } from './copy.ts';
import { duration, localTime, money, percent, price, quantity, signedMoney } from './format.ts';
import { metricRules } from './metrics.ts';
import type { ChartDay, ReportModel } from './model.ts';
import { ageSeconds } from './verdict.ts';

type Align = 'left' | 'right';

/**
 * Columns padded to their widest cell; numbers right-aligned. `notes[i]`, when given, is an
 * indented line under row i (a long order id that would make every row too wide).
 */
function table(header: string[], rows: string[][], align: Align[], notes: string[] = []): string[] {
  const indent = '  ';
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    indent +
    cells
      .map((c, i) => (align[i] === 'right' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.flatMap((r, i) => (notes[i] ? [line(r), `${indent}  ${notes[i]}`] : [line(r)])),
  ];
}

/** Wraps prose at `width` columns; a leading "- " gets a hanging indent. */
function wrap(text: string, width = 76, indent = '  '): string[] {
  const lines: string[] = [];
  const hanging = text.startsWith('- ') ? `${indent}  ` : indent;
  let current = '';
  for (const word of text.split(/\s+/)) {
    const prefix = lines.length === 0 ? indent : hanging;
    if (current && prefix.length + current.length + 1 + word.length > width) {
      lines.push(prefix + current);
      current = word;
    } else {
      current = current ? `${current} ${word}` : word;
    }
  }
  if (current) lines.push((lines.length === 0 ? indent : hanging) + current);
  return lines;
}

/** "KEY METRICS (last 24 h)" over a rule as long as the line. */
function heading(title: string, note = ''): string[] {
  const line = `${title.toUpperCase()}${note ? ` (${note})` : ''}`;
  return ['', line, '='.repeat(line.length)];
}

const pnlOrNa = (v: string | null) => (v === null ? 'n/a' : signedMoney(v));

function chartLines(days: readonly ChartDay[]): string[] {
  const values = days.map((d) => new Decimal(d.cumulative));
  const maxPos = Decimal.max(0, ...values);
  const maxNeg = Decimal.max(0, ...values.map((v) => v.neg()));
  const span = maxPos.plus(maxNeg);
  const width = 30;
  const negWidth = span.isZero() ? 0 : Math.round(maxNeg.div(span).times(width).toNumber());
  const posWidth = width - negWidth;
  const bar = (v: Decimal) => {
    if (span.isZero() || v.isZero()) return `${' '.repeat(negWidth)}|`;
    const n = Math.max(1, Math.round(v.abs().div(span).times(width).toNumber()));
    return v.isNegative()
      ? `${' '.repeat(negWidth - Math.min(n, negWidth))}${'-'.repeat(Math.min(n, negWidth))}|`
      : `${' '.repeat(negWidth)}|${'#'.repeat(Math.min(n, posWidth))}`;
  };
  const firstActive = days.findIndex((d) => d.pnl !== '0');
  const lines: string[] = [];
  if (firstActive === -1) {
    return [`  ${days[0]?.date} to ${days.at(-1)?.date}: no realized PnL`];
  }
  if (firstActive > 0) {
    lines.push(`  ${days[0]!.date} to ${days[firstActive - 1]!.date}: no realized PnL`);
  }
  const rows = days
    .slice(firstActive)
    .map((d, i) => [d.date, signedMoney(d.pnl), signedMoney(d.cumulative), bar(values[firstActive + i]!)]);
  lines.push(...table(['Day', 'Day PnL', 'Cumulative', ''], rows, ['left', 'right', 'right', 'left']));
  return lines;
}

export function renderText(model: ReportModel, options: { csvFileName?: string } = {}): string {
  const w = model.window;
  const tz = w.timeZone;
  const m = model.metrics;
  const h = model.health.status;
  const out: string[] = [];

  out.push(`fifo-ledger daily report, ${w.date}`);
  out.push(
    `Window: ${w.hours} h, ${localTime(w.start, tz)} to ${localTime(w.end, tz)} (version ${model.version})`,
  );
  out.push('');
  out.push(`VERDICT: ${model.health.verdict}`);
  if (model.health.reasons.length === 0)
    out.push('  All checks pass: fresh, no drift, nothing unmatched or rejected.');
  for (const r of model.health.reasons) out.push(...wrap(`- ${r.level}: ${r.text}`, 76, '  '));

  out.push(...heading(SECTION.metrics, `last ${w.hours} h`));
  const decided = `${plural(m.wins, 'win')}, ${plural(m.losses, 'loss', 'losses')}, ${m.breakeven} breakeven, ${m.unmatched} unmatched`;
  out.push(
    ...table(
      ['Metric', 'Value', ''],
      [
        [
          'Realized PnL',
          `${signedMoney(m.realizedPnl)} USD`,
          `all time ${signedMoney(model.allTime.realizedPnl)} USD`,
        ],
        ['Fees paid', `${money(m.fees)} USD`, `buys ${money(m.buyFees)}, sells ${money(m.sellFees)}`],
        ['Sells', String(m.sells), decided],
        ['Win rate', percent(m.winRate), `${m.wins} of ${m.wins + m.losses} counted sells`],
        ['Average win', m.averageWin === null ? 'n/a' : `${signedMoney(m.averageWin)} USD`, ''],
        ['Average loss', m.averageLoss === null ? 'n/a' : `${signedMoney(m.averageLoss)} USD`, ''],
        [
          'Profit factor',
          m.profitFactor === null ? `n/a (${m.profitFactorNote})` : money(m.profitFactor),
          '',
        ],
      ],
      ['left', 'right', 'left'],
    ),
  );
  out.push('', '  How these are counted:');
  for (const rule of metricRules(tz)) out.push(...wrap(`- ${rule}`, 76, '  '));

  out.push(...heading(SECTION.bySymbol, 'by realized PnL'));
  if (model.bySymbol.length === 0) out.push('  No trades in the window.');
  else
    out.push(
      ...table(
        ['Symbol', 'Realized', 'Sells', 'W/L/B/U', 'Win rate', 'Avg win', 'Avg loss', 'PF', 'Fees'],
        model.bySymbol.map((s) => [
          s.symbol,
          signedMoney(s.realizedPnl),
          String(s.sells),
          `${s.wins}/${s.losses}/${s.breakeven}/${s.unmatched}`,
          percent(s.winRate),
          pnlOrNa(s.averageWin),
          pnlOrNa(s.averageLoss),
          s.profitFactor === null ? 'n/a' : money(s.profitFactor),
          money(s.fees),
        ]),
        ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
      ),
      '  W/L/B/U: wins, losses, breakeven, unmatched sells.',
    );

  out.push(...heading(`${SECTION.chart}, last ${model.chart.days.length} days`, `days in ${tz}`));
  out.push(...chartLines(model.chart.days));

  out.push(...heading(SECTION.positions));
  if (model.openPositions.length === 0) out.push('  No open lots.');
  else
    out.push(
      ...table(
        ['Symbol', 'Size', 'Avg cost', 'Cost basis', 'Lots', 'Oldest lot'],
        model.openPositions.map((p) => [
          p.symbol,
          quantity(p.size),
          price(p.averageCost),
          money(p.costBasis),
          String(p.lots),
          `${duration(p.oldestLotAgeSeconds)} (${localTime(p.oldestLotTime, tz)})`,
        ]),
        ['left', 'right', 'right', 'right', 'right', 'left'],
      ),
    );
  out.push(...wrap(POSITIONS_NOTE));

  out.push(...heading(SECTION.unmatched, `in the window: ${model.unmatchedSells.length}`));
  const shownUnmatched = model.unmatchedSells.slice(0, TABLE_LIMIT);
  if (model.unmatchedSells.length === 0) out.push('  None: every sell in the window found open lots.');
  else {
    out.push(
      ...table(
        ['Time', 'Symbol', 'Unmatched size', 'Proceeds'],
        shownUnmatched.map((u) => [
          localTime(u.sellTime, tz),
          u.symbol,
          `${quantity(u.unmatchedSize)} of ${quantity(u.sellSize)}`,
          money(u.proceeds),
        ]),
        ['left', 'left', 'right', 'right'],
        shownUnmatched.map((u) => `sell ${u.sellOrderId}`),
      ),
    );
    if (model.unmatchedSells.length > TABLE_LIMIT)
      out.push(
        `  ... and ${model.unmatchedSells.length - TABLE_LIMIT} more (see the CSV: buy_order_id empty)`,
      );
    out.push(...wrap(UNMATCHED_WHY));
  }

  out.push(...heading(SECTION.health, `version ${model.version}`));
  const run = (r: typeof h.lastSuccess.full) =>
    r
      ? `${localTime(r.startedAt, tz)} (${duration(ageSeconds(r.startedAt, new Date(model.generatedAt)))} ago)`
      : 'never';
  const failed = (r: typeof h.lastRun.full) =>
    r?.status === 'failed' ? ` - last run FAILED ${localTime(r.startedAt, tz)}` : '';
  out.push(
    ...table(
      ['Check', 'Status'],
      [
        ['Verdict', model.health.verdict],
        ['Last successful incremental', `${run(h.lastSuccess.incremental)}${failed(h.lastRun.incremental)}`],
        ['Last successful full rebuild', `${run(h.lastSuccess.full)}${failed(h.lastRun.full)}`],
        ['Lag', `${duration(h.lagSeconds)} (${plural(h.pendingChanges, 'pending change')})`],
        [
          'Last drift',
          h.lastDrift
            ? `${plural(h.lastDrift.rows, 'row')}, ${h.lastDrift.usd} USD (${localTime(h.lastDrift.at, tz)})`
            : 'no full rebuild yet',
        ],
        [
          'Unmatched sells',
          `${new Set(model.unmatchedSells.map((u) => u.sellOrderId)).size} in the window, ${h.unmatchedSells.count} all time`,
        ],
        ['Rejected trades', String(h.rejectedTrades)],
        [
          'Abandoned / failed runs',
          `${h.abandonedRuns} abandoned, ${model.health.failedRunsInWindow} failed in the window${h.runInProgress ? '; a run is in progress' : ''}`,
        ],
        ['Allocations / open lots', `${h.allocations} / ${h.openLots}`],
      ],
      ['left', 'left'],
    ),
  );

  if (model.legacy) {
    const l = model.legacy;
    out.push(...heading(SECTION.legacy, `legacy ${l.columns.join(' or ')} vs FIFO`));
    if (l.rows.length === 0) {
      out.push(
        `  No sell in the window has a legacy value${l.withoutLegacy ? ` (${plural(l.withoutLegacy, 'sell')} without one)` : ''}.`,
      );
    } else {
      out.push(
        ...wrap(
          `${plural(l.rows.length, 'sell')} compared, ${l.withoutLegacy} without a legacy value. ` +
            `Legacy ${signedMoney(l.legacyTotal)}, FIFO ${signedMoney(l.fifoTotal)} USD: ` +
            `total difference ${signedMoney(l.totalDifference)} USD.`,
        ),
        '',
        ...table(
          ['Time', 'Symbol', 'Legacy', 'FIFO', 'Difference'],
          l.rows
            .slice(0, TABLE_LIMIT)
            .map((r) => [
              localTime(r.sellTime, tz),
              r.symbol,
              signedMoney(r.legacyPnl),
              signedMoney(r.fifoPnl),
              signedMoney(r.difference),
            ]),
          ['left', 'left', 'right', 'right', 'right'],
          l.rows.slice(0, TABLE_LIMIT).map((r) => `sell ${r.sellOrderId}`),
        ),
      );
      if (l.rows.length > TABLE_LIMIT)
        out.push(`  ... and ${l.rows.length - TABLE_LIMIT} more, smaller differences`);
      out.push(...wrap(LEGACY_NOTE));
    }
  }

  out.push('');
  out.push('--');
  if (options.csvFileName)
    out.push(
      `Attached: ${options.csvFileName} (${plural(model.allocationsInWindow, 'allocation row')} of the window).`,
    );
  out.push(`Generated by fifo-ledger at ${localTime(model.generatedAt, tz)}. Amounts in USD.`);
  return `${out.join('\n')}\n`;
}
