/** The plain-text email body: the same sections as the HTML, in fixed-width columns. */

import {
  duration,
  localTime,
  money,
  percent,
  pointsChange,
  price,
  quantity,
  ratioPercent,
  signedCount,
  signedMoney,
} from '../util/format.ts';
import { left, right, textTable } from '../util/text-table.ts';
import { curveSeries, dailySeries, position, scaled } from './charts.ts';
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
  TABLE_LIMIT,
  UNMATCHED_WHY,
  verdictHeadline,
} from './copy.ts';
import { Exact, minus } from './exact.ts';
import type { Usable } from './inputs.ts';
import { metricRules } from './metrics.ts';
import type { ReportModel } from './model.ts';
import type { StrategyRow } from './sections.ts';
import { TAX_YTD_TITLE, turningSummary } from './tax-ytd.ts';
import { ageSeconds } from './verdict.ts';

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
const moneyOrNa = (v: string | null) => (v === null ? 'n/a' : money(v));

const BAR_WIDTH = 30;

/** Daily realized PnL: a row per day from the first with a sell, bars left (loss) and right (gain) of 0. */
function dailyChartLines(model: ReportModel): string[] {
  const { points, top, bottom } = dailySeries(model);
  const span = minus(top, bottom);
  const firstActive = points.findIndex((p) => p.value !== '0');
  if (firstActive === -1) return [`  ${points[0]?.date} to ${points.at(-1)?.date}: no realized PnL`];
  const negWidth = scaled(bottom, span, BAR_WIDTH);
  const posWidth = BAR_WIDTH - negWidth;
  const bar = (value: string) => {
    const n = scaled(value, span, BAR_WIDTH);
    if (value.startsWith('-'))
      return `${' '.repeat(negWidth - Math.min(n, negWidth))}${'-'.repeat(Math.min(n, negWidth))}|`;
    return `${' '.repeat(negWidth)}|${'#'.repeat(Math.min(n, posWidth))}`;
  };
  const lines: string[] = [];
  const unit = new Exact(span).div(BAR_WIDTH).toDecimalPlaces(2, Exact.ROUND_HALF_UP).toFixed(2);
  lines.push(
    ...wrap(
      `Axis: ${signedMoney(bottom)} on the left, 0 at "|", ${signedMoney(top)} USD on the right; one character is about ${unit} USD. ` +
        'All-time total: the all-time realized PnL at the end of the day.',
    ),
    '',
  );
  if (firstActive > 0)
    lines.push(`  ${points[0]!.date} to ${points[firstActive - 1]!.date}: no realized PnL`);
  const days = model.chart.days;
  const rows = points
    .slice(firstActive)
    .map((p, i) => [
      p.date,
      signedMoney(p.value),
      bar(p.value),
      signedMoney(days[firstActive + i]!.cumulative),
    ]);
  lines.push(...textTable([left('Day'), right('Day PnL'), left('Bar'), right('All-time total')], rows));
  return lines;
}

/** The equity curve: the first day, each day it moved, the last day; bars from the axis's low. */
function equityChartLines(model: ReportModel): string[] {
  const series = curveSeries(model);
  const { points, low, high } = series;
  const days = model.chart.days;
  const shown = points.filter((_, i) => i === 0 || i === points.length - 1 || days[i]!.pnl !== '0');
  const label = series.kind === 'equity' ? 'Equity' : 'All-time realized';
  const lines = wrap(
    series.kind === 'equity'
      ? `Starting equity + all-time realized PnL at each day's end. Axis: ${money(low)} ("|") to ${money(high)} USD, not from zero.`
      : `Starting equity unknown: the all-time realized PnL at each day's end. Axis: ${signedMoney(low)} ("|") to ${signedMoney(high)} USD.`,
  );
  lines.push('');
  lines.push(
    ...textTable(
      [left('Day'), right(label), left('Curve')],
      shown.map((p) => [
        p.date,
        series.kind === 'equity' ? money(p.value) : signedMoney(p.value),
        `|${'#'.repeat(position(p.value, low, high, BAR_WIDTH))}`,
      ]),
    ),
  );
  return lines;
}

function strategyLines(rows: readonly StrategyRow[]): string[] {
  return textTable(
    [
      left('Trigger'),
      right('Realized'),
      right('Results'),
      right('W/L/B/U'),
      right('Win rate'),
      right('PF'),
      right('Expectancy'),
    ],
    rows.map((r) => [
      groupLabel(r.kind, r.name, 'trigger'),
      signedMoney(r.realizedPnl),
      String(r.sells),
      `${r.wins}/${r.losses}/${r.breakeven}/${r.unmatched}`,
      percent(r.winRate),
      r.profitFactor === null ? 'n/a' : money(r.profitFactor),
      pnlOrNa(r.expectancy),
    ]),
  );
}

const usableLines = <T>(input: Usable<T>, render: (value: T) => string[]): string[] =>
  input.ok ? render(input.value) : wrap(`NEEDS: ${input.needs}`);

export function renderText(model: ReportModel, options: { csvFileName?: string } = {}): string {
  const w = model.window;
  const tz = w.timeZone;
  const m = model.metrics;
  const p = model.previous.metrics;
  const h = model.health.status;
  const out: string[] = [];

  out.push(`fifo-ledger daily report, ${w.date}`);
  out.push(
    `Window: ${w.hours} h, ${localTime(w.start, tz)} to ${localTime(w.end, tz)} (version ${model.version})`,
  );
  out.push('');
  out.push(`VERDICT: ${model.health.verdict}`);
  out.push(`  ${verdictHeadline(model)}`);
  if (model.health.reasons.length === 0)
    out.push('  All checks pass: fresh, no drift, nothing unmatched or rejected.');
  for (const r of model.health.reasons) out.push(...wrap(`- ${r.level}: ${r.text}`, 76, '  '));
  out.push('');
  for (const line of summaryLines(model)) out.push(...wrap(line));

  out.push(...heading(SECTION.metrics, `last ${w.hours} h`));
  const decided = `${plural(m.wins, 'win')}, ${plural(m.losses, 'loss', 'losses')}, ${m.breakeven} breakeven, ${m.unmatched} unmatched`;
  const t = model.market.totals;
  const risk = model.risk;
  out.push(
    ...textTable(
      [left('Metric'), right('Value'), left('')],
      [
        [
          'Realized PnL',
          `${signedMoney(m.realizedPnl)} USD`,
          `all time ${signedMoney(model.allTime.realizedPnl)} USD`,
        ],
        [
          'Unrealized PnL',
          model.market.positions.length ? `${signedMoney(t.unrealizedPnl)} USD` : 'n/a',
          model.market.positions.length ? `at market, ${money(t.marketValue)} USD held` : 'no open lots',
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
        [
          'Expectancy',
          m.expectancy === null ? 'n/a' : `${signedMoney(m.expectancy)} USD`,
          'per counted sell',
        ],
        [
          'Max drawdown',
          `${money(risk.maxDrawdown.usd)} USD`,
          risk.maxDrawdownPct
            ? `${ratioPercent(risk.maxDrawdownPct.ratio, 1)} at most, all time`
            : 'all time; % needs a starting equity',
        ],
        [
          'Invested',
          ratioPercent(risk.investedRatio, 1),
          risk.cash === null ? 'needs a starting equity' : `cash ${money(risk.cash)} USD`,
        ],
      ],
    ),
  );
  out.push('', `  Change from the previous ${w.hours} h (from ${localTime(model.previous.start, tz)}):`);
  const diff = (a: string | null, b: string | null) =>
    a === null || b === null ? 'n/a' : signedMoney(minus(a, b));
  out.push(
    ...textTable(
      [left('Figure'), right('Now'), right('Before'), right('Change')],
      [
        [
          'Realized PnL',
          signedMoney(m.realizedPnl),
          signedMoney(p.realizedPnl),
          diff(m.realizedPnl, p.realizedPnl),
        ],
        ['Sells', String(m.sells), String(p.sells), signedCount(m.sells - p.sells)],
        ['Win rate', percent(m.winRate), percent(p.winRate), pointsChange(m.winRate, p.winRate)],
        ['Expectancy', pnlOrNa(m.expectancy), pnlOrNa(p.expectancy), diff(m.expectancy, p.expectancy)],
        ['Fees', money(m.fees), money(p.fees), diff(m.fees, p.fees)],
      ],
    ),
  );
  out.push('', '  How these are counted:');
  for (const rule of metricRules(tz)) out.push(...wrap(`- ${rule}`, 76, '  '));

  out.push(...heading(`${SECTION.dailyChart}, last ${model.chart.days.length} days`, `USD, days in ${tz}`));
  out.push(...dailyChartLines(model));
  const curve = curveSeries(model);
  out.push(
    ...heading(
      `${curve.kind === 'equity' ? SECTION.equityChart : 'All-time realized PnL'}, last ${model.chart.days.length} days`,
      'USD at the end of each day',
    ),
  );
  out.push(...equityChartLines(model));

  out.push(...heading(SECTION.attribution, 'entry and exit trigger'));
  const a = model.attribution;
  out.push('  By entry trigger (the buy):');
  out.push(
    ...usableLines(a.entry, (rows) => (rows.length ? strategyLines(rows) : ['  No sells in the window.'])),
  );
  out.push('', '  By exit trigger (the sell):');
  out.push(
    ...usableLines(a.exit, (rows) => (rows.length ? strategyLines(rows) : ['  No sells in the window.'])),
  );
  if (a.note) out.push(...wrap(a.note));
  out.push(...wrap(`${ATTRIBUTION_NOTE} W/L/B/U: wins, losses, breakeven, unmatched.`));

  out.push(...heading(SECTION.sources, 'trade_records.source'));
  out.push(
    ...usableLines(model.sources, (rows) =>
      rows.length === 0
        ? ['  No trades in the window.']
        : [
            ...textTable(
              [left('Source'), right('Buys'), right('Sells'), right('PnL of sells'), right('Entry PnL')],
              rows.map((r) => [
                groupLabel(r.kind, r.name, 'source'),
                String(r.buys),
                String(r.sells),
                signedMoney(r.realizedPnl),
                signedMoney(r.entryPnl),
              ]),
            ),
            ...wrap(SOURCES_NOTE),
          ],
    ),
  );

  out.push(...heading(SECTION.bySymbol, 'by realized PnL'));
  if (model.bySymbol.length === 0) out.push('  No trades in the window.');
  else
    out.push(
      ...textTable(
        [
          left('Symbol'),
          right('Realized'),
          right('Sells'),
          right('W/L/B/U'),
          right('Win rate'),
          right('Avg win'),
          right('Avg loss'),
          right('PF'),
          right('Expectancy'),
          right('Fees'),
        ],
        model.bySymbol.map((s) => [
          s.symbol,
          signedMoney(s.realizedPnl),
          String(s.sells),
          `${s.wins}/${s.losses}/${s.breakeven}/${s.unmatched}`,
          percent(s.winRate),
          pnlOrNa(s.averageWin),
          pnlOrNa(s.averageLoss),
          s.profitFactor === null ? 'n/a' : money(s.profitFactor),
          pnlOrNa(s.expectancy),
          money(s.fees),
        ]),
      ),
      '  W/L/B/U: wins, losses, breakeven, unmatched sells.',
    );

  const mk = model.market;
  out.push(
    ...heading(
      SECTION.market,
      mk.priceTable ? `marks from ${mk.priceTable}, else last fill` : 'marks: last fill',
    ),
  );
  if (mk.priceTableNeeds)
    out.push(...wrap(`NEEDS: ${mk.priceTableNeeds}. Marks fall back to each symbol's last fill.`));
  if (mk.positions.length === 0) out.push('  No open lots.');
  else {
    out.push(
      ...textTable(
        [
          left('Symbol'),
          right('Size'),
          right('Avg cost'),
          right('Cost basis'),
          right('Mark'),
          left('Mark from'),
          left('Mark age'),
          right('Value'),
          right('Unrealized'),
        ],
        [
          ...mk.positions.map((q) => [
            q.symbol,
            quantity(q.size),
            price(q.averageCost),
            money(q.costBasis),
            q.mark ? price(q.mark.price) : 'n/a',
            q.mark ? q.mark.source : 'none',
            q.mark ? `${duration(q.mark.ageSeconds)}${q.mark.stale ? ' STALE' : ''}` : '',
            moneyOrNa(q.marketValue),
            pnlOrNa(q.unrealizedPnl),
          ]),
          [
            'Total',
            '',
            '',
            money(t.costBasis),
            '',
            '',
            t.stale ? `${t.stale} stale` : '',
            money(t.marketValue),
            signedMoney(t.unrealizedPnl),
          ],
        ],
      ),
    );
    out.push(
      ...textTable(
        [left('Symbol'), right('Lots'), left('Oldest lot')],
        mk.positions.map((q) => [
          q.symbol,
          String(q.lots),
          `${duration(q.oldestLotAgeSeconds)} (${localTime(q.oldestLotTime, tz)})`,
        ]),
      ),
    );
    out.push(
      ...wrap(
        `${MARKET_NOTE} A mark older than ${duration(mk.staleMarkMinutes * 60)} is STALE.` +
          (t.unmarked
            ? ` ${plural(t.unmarked, 'position')} without a mark: at cost ${money(t.unmarkedCost)} in exposure.`
            : ''),
      ),
    );
  }

  const ty = model.taxYtd;
  out.push(...heading(TAX_YTD_TITLE, `${ty.from} to ${ty.through}, ${ty.timeZone}`));
  out.push(
    ...textTable(
      [left('Realized'), right('PnL'), right('Slices')],
      [
        ['Short-term', signedMoney(ty.shortTerm.realizedPnl), String(ty.shortTerm.slices)],
        ['Long-term', signedMoney(ty.longTerm.realizedPnl), String(ty.longTerm.slices)],
        ['Unmatched (no lot)', signedMoney(ty.unmatched.realizedPnl), String(ty.unmatched.slices)],
      ],
    ),
  );
  out.push(...wrap(turningSummary(ty.turning, signedMoney)));

  out.push(...heading(SECTION.risk, 'USD'));
  const equity = risk.startingEquity;
  if (risk.cashTransactionsNeeds && equity.source !== 'cash_transactions')
    out.push(...wrap(`NEEDS: starting equity from ${risk.cashTransactionsNeeds}`));
  const dd = risk.maxDrawdown;
  const ddp = risk.maxDrawdownPct;
  out.push(
    ...textTable(
      [left('Figure'), right('Value'), left('')],
      [
        [
          'Starting equity',
          equity.source === 'none' ? 'n/a' : money(equity.amount),
          equitySourceText(equity),
        ],
        [
          'Max drawdown (USD)',
          money(dd.usd),
          dd.at ? `from ${money(dd.peak)} to ${money(dd.trough)}, ${localTime(dd.at, tz)}` : 'none',
        ],
        [
          'Max drawdown (%)',
          ddp ? ratioPercent(ddp.ratio, 2) : 'n/a',
          ddp
            ? ddp.at
              ? `from ${money(ddp.peak)} to ${money(ddp.trough)}, ${localTime(ddp.at, tz)}`
              : 'none'
            : 'needs a starting equity',
        ],
        ['Realized equity now', moneyOrNa(risk.realizedEquity), ''],
        ['Cash', moneyOrNa(risk.cash), risk.cash === null ? 'needs a starting equity' : ''],
        ['Open positions at market', money(risk.exposure), ''],
        [
          'Invested',
          ratioPercent(risk.investedRatio, 2),
          risk.investedRatio === null ? 'needs a starting equity and positive equity' : '',
        ],
      ],
    ),
  );
  out.push(...wrap(RISK_NOTE));

  const c = model.costs;
  out.push(...heading(SECTION.costs, 'USD'));
  out.push(
    ...textTable(
      [left('Figure'), right('Value'), left('')],
      [
        ['Fees in the window', money(c.fees), `buys ${money(c.buyFees)}, sells ${money(c.sellFees)}`],
        ['Traded volume', money(c.volume), ''],
        ['Observed fee rate', ratioPercent(c.observedRate, 3), 'fees / volume'],
        [
          'Break-even move, maker',
          ratioPercent(c.breakEvenMaker, 3),
          `${ratioPercent(c.makerRate, 3)} in and out`,
        ],
        [
          'Break-even move, taker',
          ratioPercent(c.breakEvenTaker, 3),
          `${ratioPercent(c.takerRate, 3)} in and out`,
        ],
        ['Break-even move, observed', ratioPercent(c.breakEvenObserved, 3), ''],
      ],
    ),
  );
  out.push(
    ...wrap(
      'Break-even move: how far the price must rise between buy and sell for a round trip to cover both fees, ' +
        '(1 + buy rate) / (1 - sell rate) - 1.',
    ),
  );

  out.push(...heading(SECTION.holding, 'size-weighted'));
  if (model.holding.length === 0) out.push('  No lot slices sold in the window.');
  else
    out.push(
      ...textTable(
        [left('Symbol'), right('Slices'), right('Weighted by'), right('Median'), right('p90')],
        model.holding.map((x) => [
          x.symbol ?? 'All',
          String(x.slices),
          x.weightedBy === 'usd' ? `cost ${money(x.weight)} USD` : `size ${quantity(x.weight)}`,
          duration(x.medianSeconds),
          duration(x.p90Seconds),
        ]),
      ),
      ...wrap(HOLDING_NOTE),
    );

  const r = model.roundtrips;
  out.push(...heading(SECTION.roundtrips, `held ${duration(r.thresholdSeconds)} or less`));
  if (r.slices.length === 0) out.push(...wrap(`None in the window. ${ROUNDTRIP_NOTE}`));
  else {
    out.push(
      ...textTable(
        [left('Symbol'), right('Slices'), right('Sells'), right('PnL'), right('Fees')],
        r.groups.map((g) => [
          g.symbol ?? 'All',
          String(g.slices),
          String(g.sells),
          signedMoney(g.pnl),
          money(g.fees),
        ]),
      ),
      '',
    );
    const shown = r.slices.slice(0, TABLE_LIMIT);
    out.push(
      ...textTable(
        [left('Time'), left('Symbol'), right('Held'), right('PnL'), right('Fees')],
        shown.map((s) => [
          localTime(s.sell_time!, tz),
          s.symbol ?? '',
          duration(Number(s.holding_seconds)),
          pnlOrNa(s.pnl_usd),
          money(s.fees_usd),
        ]),
        { notes: shown.map((s) => `sell ${s.sell_order_id}, buy ${s.buy_order_id}`) },
      ),
    );
    if (r.slices.length > TABLE_LIMIT)
      out.push(`  ... and ${r.slices.length - TABLE_LIMIT} more (see the CSV: section roundtrip)`);
    out.push(...wrap(ROUNDTRIP_NOTE));
  }

  out.push(...heading(SECTION.movers, 'best and worst sells of the window'));
  const movers = [...model.movers.best, ...model.movers.worst];
  if (movers.length === 0) out.push('  No counted sells in the window.');
  else {
    out.push(
      ...textTable(
        [left('Time'), left('Symbol'), right('PnL')],
        movers.map((x) => [localTime(x.sellTime, tz), x.symbol, signedMoney(x.pnl)]),
        { notes: movers.map((x) => `$ ${x.command}`) },
      ),
    );
    out.push(...wrap(MOVERS_NOTE));
  }

  out.push(...heading(SECTION.unmatched, `in the window: ${model.unmatchedSells.length}`));
  const shownUnmatched = model.unmatchedSells.slice(0, TABLE_LIMIT);
  if (model.unmatchedSells.length === 0) out.push('  None: every sell in the window found open lots.');
  else {
    out.push(
      ...textTable(
        [left('Time'), left('Symbol'), right('Unmatched size'), right('Proceeds')],
        shownUnmatched.map((u) => [
          localTime(u.sellTime, tz),
          u.symbol,
          `${quantity(u.unmatchedSize)} of ${quantity(u.sellSize)}`,
          money(u.proceeds),
        ]),
        { notes: shownUnmatched.map((u) => `sell ${u.sellOrderId}`) },
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
    ...textTable(
      [left('Check'), left('Status')],
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
          `${new Set(model.unmatchedSells.map((u) => u.sellOrderId)).size} in the window, ${h.unmatchedSells.count} all time` +
            (h.unmatchedSells.bySymbol.length
              ? ` (${h.unmatchedSells.bySymbol
                  .slice(0, 5)
                  .map((u) => `${u.symbol} ${u.sells}`)
                  .join(', ')})`
              : ''),
        ],
        ['Rejected trades', String(h.rejectedTrades)],
        [
          'Abandoned / failed runs',
          `${h.abandonedRuns} abandoned, ${model.health.failedRunsInWindow} failed in the window${h.runInProgress ? '; a run is in progress' : ''}`,
        ],
        ['Allocations / open lots', `${h.allocations} / ${h.openLots}`],
      ],
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
        ...textTable(
          [left('Time'), left('Symbol'), right('Legacy'), right('FIFO'), right('Difference')],
          l.rows
            .slice(0, TABLE_LIMIT)
            .map((r) => [
              localTime(r.sellTime, tz),
              r.symbol,
              signedMoney(r.legacyPnl),
              signedMoney(r.fifoPnl),
              signedMoney(r.difference),
            ]),
          { notes: l.rows.slice(0, TABLE_LIMIT).map((r) => `sell ${r.sellOrderId}`) },
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
      `Attached: ${options.csvFileName} (${plural(model.allocationsInWindow, 'allocation row')} of the window, then the ` +
        'attribution, sources, symbols, open positions at market and roundtrips; column section says which).',
    );
  out.push(`Generated by fifo-ledger at ${localTime(model.generatedAt, tz)}. Amounts in USD.`);
  return `${out.join('\n')}\n`;
}
