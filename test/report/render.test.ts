/** The renderers on the fixture: well-formed HTML for email clients, the text sections, the CSV. */
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFullRebuild } from '../../shared/jobs/index.ts';
import { CSV_COLUMNS, type DailyReport, renderCsv, runDailyReport } from '../../shared/report/index.ts';
import { insertTrades } from '../../shared/sample/load.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { loadFixture, NOW } from './fixtures.ts';

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
  await loadFixture(db.pool);
  // A sell id with markup in it, to prove every value is escaped.
  await insertTrades(db.pool, [
    {
      order_id: 'x<i>&"y',
      symbol: 'BBB-USD',
      side: 'sell',
      order_time: '2024-03-10T20:00:00Z',
      price: '11',
      size: '0.5',
      fee: '0',
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

  it('is a 600 px container that shrinks to the screen, with inline CSS only and no scripts or remote images', () => {
    // Why: email clients drop <style>, scripts and (by default) remote images; phones are narrower than 600 px.
    // Prepare
    const html = report.html;

    // Act
    const container = html.match(/<table[^>]*width="600"[^>]*>/)?.[0] ?? '';

    // Assess
    expect(container).toContain('max-width:600px');
    expect(container).toContain('width:100%');
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).not.toMatch(/<script|<style|<link|<img|url\(|https?:\/\//i);
  });

  it('shows the verdict first, then every section, and the stated counting rules', () => {
    // Why: the reader sees the state before the numbers, and knows what the numbers mean.
    // Prepare
    const html = report.html;
    const headings = [
      'Key metrics',
      'Per symbol',
      'Cumulative realized PnL, last 30 days',
      'Open positions',
      'Unmatched sells',
      'FIFO health',
      'Legacy reconciliation',
    ];

    // Act
    const banner = html.indexOf('WARNING: figures are current');
    const positions = headings.map((h) => html.search(new RegExp(`<h2[^>]*>${h}`)));

    // Assess
    expect(banner).toBeGreaterThan(0);
    expect(positions.every((p) => p > banner)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(html).toContain('is breakeven: neither a win nor a loss, and not in the denominator');
    expect(html).toContain('realized PnL leaves them out');
    expect(html).toContain(
      'Total difference: <b><span style="color:#15803d;white-space:nowrap;">+3.45</span></b> USD',
    );
  });

  it('draws 30 days of cumulative PnL as table cells, a bar for each day with a running total', () => {
    // Why: the chart must render with no JavaScript and no image.
    // Prepare
    const html = report.html;

    // Act
    const days = html.match(/title="\d{4}-\d{2}-\d{2}: day [^"]*"/g) ?? [];

    // Assess: one cell per day above the baseline (no day is negative here, so no row below).
    expect(days).toHaveLength(30);
    expect(days.at(-1)).toBe('title="2024-03-10: day -11.12, cumulative +12.13 USD"');
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
      'PER SYMBOL',
      'CUMULATIVE REALIZED PNL, LAST 30 DAYS',
      'OPEN POSITIONS',
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
    expect(text).toMatch(/CCC-USD\s+3\s+53\.6667\s+161\.00\s+2\s+10 d 0 h/);
  });
});

describe('the CSV attachment', () => {
  it('has one row per allocation of the window, exact values and the bot column names', () => {
    // Why: the attachment is the audit trail behind the email's sums.
    // Prepare
    const csv = report.csv;

    // Act
    const rows = parseCsv(csv, { columns: true }) as Record<string, string>[];

    // Assess
    expect(Object.keys(rows[0]!)).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(report.allocationsInWindow);
    expect(rows).toHaveLength(7);
    expect(rows.find((r) => r.sell_order_id === 's6' && r.buy_order_id === '')).toMatchObject({
      allocated_size: '1',
      proceeds_usd: '12',
      net_proceeds_usd: '11.88',
      pnl_usd: '',
      notes: 'unmatched: 1 of 2 sold had no open lot',
    });
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
