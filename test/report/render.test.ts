/**
 * The renderers on the fixture: well-formed HTML for email clients (tables and inline CSS, no
 * SVG, no hover titles, no white on white), the text sections, the CSV with every section.
 * The layout on a real screen is test/report/browser.test.ts.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFullRebuild } from '../../shared/jobs/index.ts';
import {
  CSV_COLUMNS,
  type DailyReport,
  type ReportModel,
  renderCsv,
  renderHtml,
  runDailyReport,
} from '../../shared/report/index.ts';
import { HTML_BUDGET } from '../../shared/report/render-html.ts';
import { insertTrades } from '../../shared/sample/load.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { csvAllocations, FIXTURE, FIXTURE_WINDOW_ALLOCATIONS, loadFixture, NOW } from './fixtures.ts';

/** The fixture with the bot's triggers and sources: AAA's buys roc_momo, BBB's breakout, CCC's dca. */
const WITH_TRIGGERS = FIXTURE.map((t) => ({
  ...t,
  trigger: t.side === 'sell' ? 'tp' : ({ 'AAA-USD': 'roc_momo', 'BBB-USD': 'breakout' }[t.symbol] ?? 'dca'),
  source: t.side === 'sell' ? 'websocket' : 'webhook',
}));

const VOID = new Set(['meta', 'br', 'img', 'hr', 'link', 'input', 'col', 'area', 'base', 'source', 'wbr']);

/** Every element closed in order, every attribute quoted, no stray "<". Returns the problems. */
function htmlProblems(html: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  const body = html.replace(/^<!DOCTYPE html>/i, '');
  const tag = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s+[a-zA-Z-]+(?:="[^"]*")?)*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(body); m !== null; m = tag.exec(body)) {
    const between = body.slice(last, m.index);
    if (between.includes('<') || between.includes('>'))
      problems.push(`stray angle bracket near "${between.slice(0, 60)}"`);
    last = tag.lastIndex;
    const [, closing, rawName, , selfClosing] = m;
    const name = rawName!.toLowerCase();
    if (VOID.has(name) || selfClosing) continue;
    if (!closing) stack.push(name);
    else if (stack.pop() !== name) problems.push(`</${name}> does not close the open element`);
  }
  if (/[<>]/.test(body.slice(last))) problems.push('stray angle bracket at the end');
  if (stack.length) problems.push(`unclosed: ${stack.join(', ')}`);
  return problems;
}

let db: TestDatabase;
let report: DailyReport;
beforeAll(async () => {
  db = await createTestDatabase();
  await loadFixture(db.pool, WITH_TRIGGERS);
  // A sell id, trigger and source with markup or a formula in them, to prove every value is escaped.
  await insertTrades(db.pool, [
    {
      order_id: 'x<i>&"y',
      symbol: 'BBB-USD',
      side: 'sell',
      order_time: '2024-03-10T20:00:00Z',
      price: '11',
      size: '0.5',
      fee: '0',
      trigger: `=cmd|' /C calc'!A0`,
      source: '<b>src</b>',
    },
  ]);
  await db.pool.query(`UPDATE trade_records SET pnl_usd = -16.45 WHERE order_id = 's4'`);
  await runFullRebuild(db, { version: 1 });
  report = await runDailyReport(db, { version: 1, now: NOW, timeZone: 'America/New_York' });
});
afterAll(async () => {
  await db?.drop();
});

describe('the HTML email', () => {
  it('is well-formed: balanced tags, quoted attributes, escaped values', () => {
    // Why: a broken tag can hide the rest of an email in some clients.
    // Prepare
    const html = report.html;

    // Act
    const problems = htmlProblems(html);

    // Assess
    expect(problems).toEqual([]);
    expect(html).toContain('x&lt;i&gt;&amp;&quot;y');
    expect(html).not.toContain('x<i>');
    expect(html).toContain('&lt;b&gt;src&lt;/b&gt;');
    expect(html).not.toContain('<b>src</b>');
  });

  it('escapes markup in every kind of text the model carries, and in the subject and file name', () => {
    // Why: the renderer builds every piece with html`...`, which escapes what it is given; a field
    // a section forgets would show here as a live <script>.
    // Prepare: a different tag in each field, so that each one is seen to arrive escaped.
    const m = report.model;
    const tag = (field: string) => `<script>${field}</script>`;
    const named = <T extends { name: string | null }>(rows: readonly T[], field: string) =>
      rows.map((r) => ({ ...r, name: tag(field) }));
    const slice = m.allocations.find((a) => a.buy_order_id !== null)!;
    const hostile: ReportModel = {
      ...m,
      bySymbol: m.bySymbol.map((s) => ({ ...s, symbol: tag('bySymbol.symbol') })),
      attribution: {
        entry: {
          ok: true,
          value: named(m.attribution.entry.ok ? m.attribution.entry.value : [], 'entry.name'),
        },
        exit: { ok: false, needs: tag('exit.needs') },
        note: tag('attribution.note'),
      },
      sources: { ok: true, value: named(m.sources.ok ? m.sources.value : [], 'sources.name') },
      market: {
        ...m.market,
        priceTable: tag('market.priceTable'),
        priceTableNeeds: tag('market.priceTableNeeds'),
        positions: m.market.positions.map((p) => ({ ...p, symbol: tag('positions.symbol') })),
      },
      risk: { ...m.risk, cashTransactionsNeeds: tag('risk.cashTransactionsNeeds') },
      holding: m.holding.map((h) => (h.symbol === null ? h : { ...h, symbol: tag('holding.symbol') })),
      roundtrips: {
        thresholdSeconds: 60,
        slices: [
          {
            ...slice,
            symbol: tag('roundtrip.symbol'),
            sell_order_id: tag('roundtrip.sell'),
            holding_seconds: '30',
            fees_usd: '0.1',
          },
        ],
        groups: [
          { symbol: tag('roundtrips.group'), slices: 1, sells: 1, size: '1', pnl: '1', fees: '0.1' },
          { symbol: null, slices: 1, sells: 1, size: '1', pnl: '1', fees: '0.1' },
        ],
      },
      movers: {
        best: m.movers.best.map((x) => ({
          ...x,
          symbol: tag('movers.symbol'),
          command: tag('movers.command'),
        })),
        worst: [],
      },
      unmatchedSells: m.unmatchedSells.map((u) => ({
        ...u,
        symbol: tag('unmatched.symbol'),
        sellOrderId: tag('unmatched.sellOrderId'),
      })),
      health: {
        ...m.health,
        reasons: [{ level: 'WARNING', text: tag('health.reason') }],
        status: {
          ...m.health.status,
          unmatchedSells: {
            ...m.health.status.unmatchedSells,
            bySymbol: [{ symbol: tag('health.unmatched.symbol'), sells: 1, size: '1' }],
          },
        },
      },
      legacy: m.legacy && {
        ...m.legacy,
        columns: [tag('legacy.column')],
        rows: m.legacy.rows.map((r) => ({
          ...r,
          symbol: tag('legacy.symbol'),
          sellOrderId: tag('legacy.sellOrderId'),
        })),
      },
    };
    const fields = [
      'bySymbol.symbol',
      'entry.name',
      'exit.needs',
      'attribution.note',
      'sources.name',
      'market.priceTable',
      'market.priceTableNeeds',
      'positions.symbol',
      'risk.cashTransactionsNeeds',
      'holding.symbol',
      'roundtrip.symbol',
      'roundtrip.sell',
      'roundtrips.group',
      'movers.symbol',
      'movers.command',
      'unmatched.symbol',
      'unmatched.sellOrderId',
      'health.reason',
      'health.unmatched.symbol',
      'legacy.column',
      'legacy.symbol',
      'legacy.sellOrderId',
      'subject',
      'csvFileName',
    ];

    // Act
    const html = renderHtml(hostile, { subject: tag('subject'), csvFileName: tag('csvFileName') });

    // Assess
    expect(html).not.toMatch(/<script/i);
    expect(fields.filter((f) => !html.includes(`&lt;script&gt;${f}&lt;/script&gt;`))).toEqual([]);
    expect(htmlProblems(html)).toEqual([]);
  });

  it('is checked by a parser that does catch a misnested or unclosed tag', () => {
    // Why: proves the well-formedness check above is not vacuous.
    // Prepare
    const broken = [
      '<table><tr><td>x</tr></table>',
      '<div><b>x</div>',
      '<p>a < b</p>',
      '<td align=left>x</td>',
    ];

    // Act
    const found = broken.map((html) => htmlProblems(html).length > 0);

    // Assess
    expect(found).toEqual([true, true, true, true]);
  });

  it('is a 600 px container that shrinks to the screen, with inline CSS only and no scripts, images, SVG or titles', () => {
    // Why: email clients drop <style>, scripts, SVG and (by default) remote images, and show no hover
    // titles; phones are narrower than 600 px.
    // Prepare
    const html = report.html;

    // Act
    const container = html.match(/<table[^>]*width="600"[^>]*>/)?.[0] ?? '';

    // Assess
    expect(container).toContain('max-width:600px');
    expect(container).toContain('width:100%');
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).not.toMatch(/<script|<style|<link|<img|<svg|url\(|https?:\/\//i);
    expect(html).not.toMatch(/\stitle="/);
  });

  it('sets a colour and a background on every text block, and declares a light scheme for dark-mode clients', () => {
    // Why: a client that darkens backgrounds it was not told about leaves dark text on dark, or white on white.
    // Prepare
    const html = report.html;

    // Act
    const cells = html.match(/<td[^>]*data-key="[^"]*"[^>]*>/g) ?? [];

    // Assess
    expect(html).toContain('<meta name="color-scheme" content="light only">');
    expect(html).toContain('<meta name="supported-color-schemes" content="light only">');
    expect(html).toMatch(/<body bgcolor="#f3f4f6" style="[^"]*background-color:#f3f4f6;color:#1f2937;/);
    expect(cells).toHaveLength(2);
    for (const cell of cells)
      expect(cell).toMatch(/bgcolor="#[0-9a-f]{6}".*background-color:#[0-9a-f]{6};.*color:#/);
  });

  it('shows the verdict first, the realized PnL and summary under it, then every section, and the stated rules', () => {
    // Why: the reader sees the state and the headline before the tables, and knows what the numbers mean.
    // Prepare
    const html = report.html;
    const headings = [
      'Key metrics',
      'Change from the previous window',
      'Daily realized PnL, last 30 days',
      'All-time realized PnL, last 30 days',
      'PnL by strategy',
      'PnL by source',
      'Per symbol',
      'Open positions at market',
      'Risk and capital',
      'Costs and break-even',
      'Holding time',
      'Near-instant roundtrips',
      'Big movers',
      'Unmatched sells',
      'FIFO health',
      'Legacy reconciliation',
    ];

    // Act
    const banner = html.indexOf('WARNING: the figures are up to date, but one thing needs a look');
    const realized = html.indexOf('data-key="realized-pnl"');
    const positions = headings.map((h) => html.search(new RegExp(`<h2[^>]*>${h}`)));

    // Assess
    expect(html).not.toContain('figures are current');
    expect(banner).toBeGreaterThan(0);
    expect(realized).toBeGreaterThan(banner);
    expect(positions.every((p) => p > realized)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(html).toContain('Top strategy: breakout +1.88 USD; worst: roc_momo -3.25 USD.');
    expect(html).toContain('is breakeven: neither a win nor a loss, and not in the denominator');
    expect(html).toContain('realized PnL leaves them out');
    expect(html).toContain('Total difference: <b><span style="color:#15803d;">+3.45</span></b> USD');
  });

  it('draws the daily PnL and the running total as table cells with values and dates on the axes', () => {
    // Why: the chart must render in email (no SVG, no script, no hover titles) and be readable without them.
    // Prepare
    const html = report.html;
    const chart = (name: string) => {
      const start = html.indexOf(`data-chart="${name}"`);
      return html.slice(start, html.indexOf('<p ', start));
    };

    // Act
    const daily = chart('daily-pnl');
    const curve = chart('equity');

    // Assess: in New York, 2024-03-01 +4.50 and 2024-03-09 +18.75 up, 2024-03-10 -11.12 down.
    expect(daily.match(/data-bar="1"/g)).toHaveLength(3);
    expect(daily).toContain('>+18.75</td>');
    expect(daily).toContain('>-11.12</td>');
    expect(daily).toContain('>0</td>');
    expect(daily.match(/>(\d\d-\d\d)<\/td>/g)).toEqual([
      '>02-10</td>',
      '>02-17</td>',
      '>02-24</td>',
      '>03-02</td>',
    ]);
    expect(curve.match(/data-bar="1"/g)).toHaveLength(30);
    expect(html).toContain('Best day 2024-03-09 +18.75, worst day 2024-03-10 -11.12.');
  });

  it("agrees with the key figure: the chart's last point is the all-time realized PnL", () => {
    // Why: the tile said -22.00 all time and the chart, just under it, -2.20 for the same day.
    // Prepare
    const html = report.html;

    // Act
    const tile = html.match(/All-time realized PnL<\/div><div[^>]*><span[^>]*>([^<]+)</)?.[1];
    const chartLast = html.match(
      /At the end of 2024-03-10: ([^ ]+) USD \(all-time realized PnL ([^ ]+) USD, as in Key metrics\)/,
    );

    // Assess
    expect(tile).toBe('+12.13');
    expect(chartLast?.slice(1)).toEqual(['+12.13', '+12.13']);
    expect(report.model.chart.days.at(-1)!.cumulative).toBe(report.model.allTime.realizedPnl);
  });

  it("stays under Gmail's clipping size with the bot's 188 symbols, cutting long tables and saying where the rest is", () => {
    // Why: Gmail hides an HTML body over 102 KB behind "View entire message", verdict and all.
    // Prepare: the fixture's model, its lists multiplied far beyond a real day.
    const m = report.model;
    const times = <T>(list: readonly T[], n: number, rename: (t: T, i: number) => T) =>
      Array.from({ length: n }, (_, i) => list.map((t) => rename(t, i))).flat();
    const entry = m.attribution.entry.ok ? m.attribution.entry.value : [];
    const big: ReportModel = {
      ...m,
      bySymbol: times(m.bySymbol, 94, (s, i) => ({ ...s, symbol: `${s.symbol.slice(0, 3)}${i}-USD` })),
      attribution: {
        ...m.attribution,
        entry: { ok: true, value: times(entry, 20, (r, i) => ({ ...r, name: `strategy_${i}` })) },
      },
      market: {
        ...m.market,
        positions: times(m.market.positions, 150, (p, i) => ({ ...p, symbol: `P${i}-USD` })),
      },
      unmatchedSells: times(m.unmatchedSells, 200, (u, i) => ({
        ...u,
        sellOrderId: `${u.sellOrderId}-${i}`,
      })),
    };

    // Act
    const html = renderHtml(big, { csvFileName: 'fifo-allocations-2024-03-10.csv' });

    // Assess
    expect(Buffer.byteLength(html, 'utf8')).toBeLessThanOrEqual(HTML_BUDGET);
    expect(HTML_BUDGET).toBeLessThan(102 * 1024);
    expect(html).toMatch(
      /The \d+ best and \d+ worst of 188 symbols; the \d+ between them are in the plain-text part/,
    );
    expect(html).toMatch(/\.\.\. and \d+ more positions \(the total counts them\)/);
    expect(html).toMatch(/\.\.\. and \d+ more unmatched sells: the attached CSV lists them/);
    expect(html).toContain('data-key="verdict"');
    expect(html).toContain('data-chart="equity"');
  });

  it('names the attachment in the email, and report.csv in the files --out writes', () => {
    // Why: the footer named fifo-allocations-....csv beside a report.csv.
    // Prepare
    const footer = (html: string) => html.match(/Attached: ([^ ]+)/)?.[1];

    // Act
    const names = [
      footer(report.html),
      footer(report.files.html),
      report.files.text.match(/Attached: ([^ ]+)/)?.[1],
    ];

    // Assess
    expect(names).toEqual(['fifo-allocations-2024-03-10.csv', 'report.csv', 'report.csv']);
    expect(report.text).toContain('Attached: fifo-allocations-2024-03-10.csv');
  });
});

describe('the text email', () => {
  it('has the same sections, in the same order, and the money to 2 dp', () => {
    // Why: the plain-text part is what some readers and every notification preview show.
    // Prepare
    const text = report.text;
    const sections = [
      'VERDICT: WARNING',
      'KEY METRICS',
      'DAILY REALIZED PNL, LAST 30 DAYS',
      'ALL-TIME REALIZED PNL, LAST 30 DAYS',
      'PNL BY STRATEGY',
      'PNL BY SOURCE',
      'PER SYMBOL',
      'OPEN POSITIONS AT MARKET',
      'RISK AND CAPITAL',
      'COSTS AND BREAK-EVEN',
      'HOLDING TIME',
      'NEAR-INSTANT ROUNDTRIPS',
      'BIG MOVERS',
      'UNMATCHED SELLS',
      'FIFO HEALTH',
      'LEGACY RECONCILIATION',
    ];

    // Act
    const positions = sections.map((s) => text.indexOf(s));

    // Assess
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(text).toMatch(/Realized PnL\s+-1\.37 USD\s+all time \+12\.13 USD/);
    expect(text).toMatch(
      /CCC-USD\s+3\s+53\.6667\s+161\.00\s+60\.00\s+last fill\s+6 d 0 h STALE\s+180\.00\s+\+19\.00/,
    );
    expect(text).toMatch(/CCC-USD\s+2\s+10 d 0 h/);
    expect(text).toMatch(/2024-03-10\s+-11\.12\s+-+\|\s+\+12\.13/);
    expect(text).toContain('$ npx fifo explain s2');
  });
});

describe('the CSV attachment', () => {
  it('has one row per allocation of the window, exact values and the bot column names, then the other sections', () => {
    // Why: the attachment is the audit trail behind the email's sums, its tables included.
    // Prepare
    const csv = report.csv;

    // Act
    const rows = parseCsv(csv, { columns: true }) as Record<string, string>[];
    const of = (section: string) => rows.filter((r) => r.section === section);

    // Assess
    expect(Object.keys(rows[0]!)).toEqual([...CSV_COLUMNS]);
    expect(CSV_COLUMNS.slice(0, 2)).toEqual(['section', 'allocation_version']);
    // The fixture's rows, then the extra sell at 20:00: no lot is left for it (s6 took b3).
    expect(csvAllocations(rows)).toEqual([
      ...FIXTURE_WINDOW_ALLOCATIONS.slice(0, -1),
      {
        sell_order_id: 'x<i>&"y',
        buy_order_id: '',
        allocated_size: '0.5',
        cost_basis_usd: '',
        proceeds_usd: '5.5',
        net_proceeds_usd: '5.5',
        pnl_usd: '',
        notes: 'unmatched: 0.5 of 0.5 sold had no open lot',
      },
      FIXTURE_WINDOW_ALLOCATIONS.at(-1),
    ]);
    expect(
      of('entry_trigger').map((r) => [r.name, r.kind, r.results, r.wins, r.losses, r.win_rate, r.pnl_usd]),
    ).toEqual([
      ['breakout', 'named', '1', '0', '0', '', '1.88'],
      ['roc_momo', 'named', '3', '1', '1', '0.5', '-3.25'],
      ['', 'unmatched', '3', '0', '0', '', '0'],
    ]);
    expect(of('exit_trigger').map((r) => [r.name, r.pnl_usd])).toEqual([
      [`'=cmd|' /C calc'!A0`, '0'],
      ['tp', '-1.37'],
    ]);
    expect(of('source').map((r) => [r.name, r.buys, r.sells, r.pnl_usd, r.entry_pnl_usd])).toEqual([
      ['<b>src</b>', '0', '1', '0', '0'],
      ['webhook', '2', '0', '0', '-1.37'],
      ['websocket', '0', '5', '-1.37', '0'],
    ]);
    expect(of('position')).toEqual([
      expect.objectContaining({
        symbol: 'CCC-USD',
        size: '3',
        lots: '2',
        cost_basis_usd: '161',
        mark_price: '60',
        mark_source: 'last fill',
        mark_time: '2024-03-05T00:00:00.000000Z',
        market_value_usd: '180',
        unrealized_pnl_usd: '19',
      }),
    ]);
    expect(of('symbol').map((r) => [r.symbol, r.results, r.pnl_usd, r.fees_usd, r.expectancy_usd])).toEqual([
      ['BBB-USD', '3', '1.88', '0.54', ''],
      ['AAA-USD', '3', '-3.25', '3', '-1.08333333'],
    ]);
    expect(of('roundtrip')).toEqual([]);
    expect(report.csvFileName).toBe('fifo-allocations-2024-03-10.csv');
  });

  it('neutralises spreadsheet formulas in text fields and leaves negative amounts as numbers', () => {
    // Why: a symbol of =HYPERLINK(...) came through as is, and a spreadsheet would run it.
    // Prepare
    const hostile = {
      ...report.model,
      allocations: [
        {
          ...report.model.allocations[0]!,
          symbol: '=HYPERLINK("http://evil.example","x")',
          sell_order_id: '@SUM(A1)',
          notes: '+cmd',
          pnl_usd: '-16.45',
        },
      ],
    };

    // Act
    const [row] = parseCsv(renderCsv(hostile), { columns: true }) as Record<string, string>[];

    // Assess
    expect(row).toMatchObject({
      symbol: `'=HYPERLINK("http://evil.example","x")`,
      sell_order_id: "'@SUM(A1)",
      notes: "'+cmd",
      pnl_usd: '-16.45',
    });
  });
});
