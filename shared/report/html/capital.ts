/** The HTML email's holdings and money: open positions at market, the tax year so far, risk and capital, costs. */

import { duration, localTime, money, price, quantity, ratioPercent, signedMoney } from '../../util/format.ts';
import { equitySourceText, MARKET_NOTE, plural, RISK_NOTE, SECTION } from '../copy.ts';
import type { ReportModel } from '../model.ts';
import { TAX_YTD_TITLE, turningSummary } from '../tax-ytd.ts';
import { C, dataTable, heading, type Limits, more, na, needsNote, paragraph, pnl, small } from './parts.ts';
import { type HtmlValue, html, type SafeHtml } from './safe.ts';

/** A two-column table of labelled figures, the labels muted. */
const figures = (rows: readonly (readonly [string, HtmlValue])[]) =>
  dataTable(
    [{ title: 'Figure' }, { title: 'Value', align: 'right' }],
    rows.map(([k, v]) => [html`<span style="color:${C.muted};">${k}</span>`, v]),
  );

export function market(model: ReportModel, limits: Limits): SafeHtml {
  const mk = model.market;
  const tz = model.window.timeZone;
  const source = mk.priceTable
    ? `marks from ${mk.priceTable}, else last fill`
    : 'marks: last fill (no price table)';
  if (mk.positions.length === 0)
    return html`${heading(SECTION.market)}${mk.priceTableNeeds ? needsNote(mk.priceTableNeeds) : ''}${paragraph(
      'No open lots.',
    )}`;
  const t = mk.totals;
  return html`${heading(SECTION.market, source)}${
    mk.priceTableNeeds ? needsNote(`${mk.priceTableNeeds}. Marks fall back to each symbol's last fill.`) : ''
  }${dataTable(
    [
      { title: 'Symbol / size', width: '34%' },
      { title: 'Mark', align: 'right' },
      { title: 'Value / cost', align: 'right' },
      { title: 'Unrealized', align: 'right' },
    ],
    mk.positions
      .slice(0, limits.groups)
      .map((p) => [
        html`<b>${p.symbol}</b>${small(
          `${quantity(p.size)} @ ${price(p.averageCost)}; ${plural(p.lots, 'lot')}, oldest ${duration(p.oldestLotAgeSeconds)}`,
        )}`,
        p.mark
          ? html`${price(p.mark.price)}${small(
              html`${p.mark.source}, ${duration(p.mark.ageSeconds)} old${
                p.mark.stale ? html` <b style="color:${C.loss};">STALE</b>` : ''
              }`,
            )}`
          : html`${na()}${small('no price, no fill')}`,
        html`${p.marketValue === null ? na() : money(p.marketValue)}${small(`cost ${money(p.costBasis)}`)}`,
        pnl(p.unrealizedPnl),
      ]),
    [
      'Total',
      t.stale ? html`<span style="color:${C.loss};">${plural(t.stale, 'stale mark')}</span>` : '',
      html`${money(t.marketValue)}${small(`cost ${money(t.costBasis)}`)}`,
      pnl(t.unrealizedPnl),
    ],
  )}${more(mk.positions.length - limits.groups, 'positions (the total counts them)')}${paragraph(
    `${MARKET_NOTE} A mark older than ${duration(mk.staleMarkMinutes * 60)} is STALE.` +
      (t.unmarked
        ? ` ${plural(t.unmarked, 'position')} without a mark: at cost ${money(t.unmarkedCost)} in exposure.`
        : '') +
      ` Oldest lot times in ${tz}.`,
  )}`;
}

export function taxYtd(model: ReportModel): SafeHtml {
  const ty = model.taxYtd;
  const row = (label: string, t: { realizedPnl: string; slices: number }) => [
    html`<span style="color:${C.muted};">${label}</span>`,
    pnl(t.realizedPnl),
    t.slices,
  ];
  return html`${heading(TAX_YTD_TITLE, `${ty.from} to ${ty.through}, ${ty.timeZone}`)}${dataTable(
    [{ title: 'Realized' }, { title: 'PnL', align: 'right' }, { title: 'Slices', align: 'right' }],
    [row('Short-term', ty.shortTerm), row('Long-term', ty.longTerm), row('Unmatched (no lot)', ty.unmatched)],
  )}${paragraph(turningSummary(ty.turning, signedMoney))}`;
}

export function risk(model: ReportModel): SafeHtml {
  const r = model.risk;
  const dd = r.maxDrawdown;
  const tz = model.window.timeZone;
  const equity = r.startingEquity;
  const rows: [string, HtmlValue][] = [
    [
      'Starting equity',
      html`${equity.source === 'none' ? na() : money(equity.amount)}${small(equitySourceText(equity))}`,
    ],
    [
      'Max drawdown (USD)',
      html`${money(dd.usd)}${
        dd.at
          ? small(`from ${money(dd.peak)} to ${money(dd.trough)}, ${localTime(dd.at, tz)}`)
          : small('none')
      }`,
    ],
    [
      'Max drawdown (%)',
      r.maxDrawdownPct
        ? html`${ratioPercent(r.maxDrawdownPct.ratio, 2)}${
            r.maxDrawdownPct.at
              ? small(
                  `from ${money(r.maxDrawdownPct.peak)} to ${money(r.maxDrawdownPct.trough)}, ${localTime(r.maxDrawdownPct.at, tz)}`,
                )
              : ''
          }`
        : html`${na()}${small('needs a starting equity')}`,
    ],
    ['Realized equity now', r.realizedEquity === null ? na() : money(r.realizedEquity)],
    ['Cash', r.cash === null ? html`${na()}${small('needs a starting equity')}` : money(r.cash)],
    ['Open positions at market', money(r.exposure)],
    [
      'Invested',
      r.investedRatio === null
        ? html`${na()}${small('needs a starting equity and positive equity')}`
        : ratioPercent(r.investedRatio, 2),
    ],
  ];
  return html`${heading(SECTION.risk, 'USD')}${
    r.cashTransactionsNeeds && equity.source !== 'cash_transactions'
      ? needsNote(`starting equity from ${r.cashTransactionsNeeds}`)
      : ''
  }${figures(rows)}${paragraph(RISK_NOTE)}`;
}

export function costs(model: ReportModel): SafeHtml {
  const c = model.costs;
  return html`${heading(SECTION.costs, 'USD')}${figures([
    [
      'Fees in the window',
      html`${money(c.fees)}${small(`buys ${money(c.buyFees)}, sells ${money(c.sellFees)}`)}`,
    ],
    ['Traded volume', money(c.volume)],
    ['Observed fee rate', html`${ratioPercent(c.observedRate, 3)}${small('fees / volume')}`],
    [
      'Break-even move, maker',
      html`${ratioPercent(c.breakEvenMaker, 3)}${small(`${ratioPercent(c.makerRate, 3)} in and out`)}`,
    ],
    [
      'Break-even move, taker',
      html`${ratioPercent(c.breakEvenTaker, 3)}${small(`${ratioPercent(c.takerRate, 3)} in and out`)}`,
    ],
    ['Break-even move, observed', ratioPercent(c.breakEvenObserved, 3)],
  ])}${paragraph(
    'Break-even move: how far the price must rise between buy and sell for a round trip to cover both fees, ' +
      '(1 + buy rate) / (1 - sell rate) - 1. Rates: REPORT_MAKER_FEE and REPORT_TAKER_FEE.',
  )}`;
}
