/**
 * The HTML report in a real browser: Debian's headless Chromium, driven by puppeteer-core, at
 * 1200 px (a desktop client) and 375 px (a phone). It renders a report on a generated sample
 * with every section filled (triggers, sources, a price table, cash_transactions, roundtrips)
 * and checks what a reader would see: nothing wider than the screen, the verdict and the
 * realized PnL on the first screen, both charts drawn, and no text the colour of its
 * background, in light and in dark mode. The screenshots go to out/ for review.
 *
 * Chromium comes from apt (`apt-get install chromium`; .ci/run installs it). Without it the
 * test is skipped locally and fails under FIFO_REQUIRE_ALL_TESTS=1, as in CI.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFullRebuild } from '../../shared/jobs/index.ts';
import { type DailyReport, DEFAULT_SETTINGS, runDailyReport } from '../../shared/report/index.ts';
import { generateTrades } from '../../shared/sample/generator.ts';
import { insertTrades } from '../../shared/sample/load.ts';
import { loadSampleReportInputs } from '../../shared/sample/report-inputs.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SCREENSHOTS = {
  desktop: join(repo, 'out', 'report-1200.png'),
  phone: join(repo, 'out', 'report-375.png'),
} as const;

/** Debian's chromium, or CHROMIUM_PATH. */
function findChromium(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((path): path is string => !!path && existsSync(path)) ?? null;
}

const chromium = findChromium();
if (!chromium && process.env.FIFO_REQUIRE_ALL_TESTS === '1') {
  throw new Error(
    'FIFO_REQUIRE_ALL_TESTS=1 but Chromium is not installed: apt-get install chromium (or set CHROMIUM_PATH)',
  );
}

/** What the page says about itself at one viewport, measured in the browser. */
interface Layout {
  readonly viewport: { width: number; height: number };
  readonly scrollWidth: number;
  /** Elements whose right edge passes the viewport: tag and the start of their text. */
  readonly overflowing: string[];
  readonly verdict: { top: number; bottom: number } | null;
  readonly realizedPnl: { top: number; bottom: number } | null;
  readonly charts: { name: string; width: number; height: number; bars: number; drawnBars: number }[];
  /** Text whose contrast with its background is below 3:1: the text, its colours. */
  readonly lowContrast: string[];
}

/**
 * Runs in the page (plain JavaScript, evaluated by Chromium): every measurement the assertions
 * need, as a Layout.
 */
const MEASURE = `(() => {
  const width = window.innerWidth;
  const height = window.innerHeight;
  const overflowing = [];
  for (const el of Array.from(document.body.querySelectorAll('*'))) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > width + 0.5) overflowing.push(el.tagName + ' "' + (el.textContent || '').trim().slice(0, 40) + '"');
  }
  const box = (selector) => {
    const el = document.querySelector(selector);
    if (!el) return null;
    const r = el.getBoundingClientRect();
    return { top: r.top, bottom: r.bottom };
  };
  const charts = Array.from(document.querySelectorAll('[data-chart]')).map((chart) => {
    const r = chart.getBoundingClientRect();
    const bars = Array.from(chart.querySelectorAll('[data-bar]'));
    const drawn = bars.filter((bar) => {
      const b = bar.getBoundingClientRect();
      const color = getComputedStyle(bar).backgroundColor;
      return b.height > 0 && b.width > 0 && b.left >= r.left - 0.5 && b.right <= r.right + 0.5 &&
        color !== 'rgba(0, 0, 0, 0)' && color !== 'transparent';
    });
    return { name: chart.dataset.chart || '', width: r.width, height: r.height, bars: bars.length, drawnBars: drawn.length };
  });
  const rgb = (text) => {
    const m = /rgba?\\(([\\d.]+), ([\\d.]+), ([\\d.]+)(?:, ([\\d.]+))?\\)/.exec(text);
    return m ? { r: +m[1], g: +m[2], b: +m[3], a: m[4] === undefined ? 1 : +m[4] } : null;
  };
  // WCAG relative luminance.
  const luminance = (c) => {
    const ch = (v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b);
  };
  // The first opaque background up the tree, else the canvas.
  const background = (el) => {
    for (let at = el; at; at = at.parentElement) {
      const c = rgb(getComputedStyle(at).backgroundColor);
      if (c && c.a > 0) return c;
    }
    const canvas = rgb(getComputedStyle(document.documentElement).backgroundColor);
    return canvas && canvas.a > 0 ? canvas : { r: 255, g: 255, b: 255 };
  };
  const lowContrast = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = (node.textContent || '').trim();
    const el = node.parentElement;
    if (!text || !el) continue;
    const style = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || style.visibility === 'hidden' || style.opacity === '0') continue;
    const fg = rgb(style.color);
    if (!fg) continue;
    const bg = background(el);
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
    if ((hi + 0.05) / (lo + 0.05) < 3)
      lowContrast.push('"' + text.slice(0, 30) + '" ' + style.color + ' on rgb(' + bg.r + ', ' + bg.g + ', ' + bg.b + ')');
  }
  return {
    viewport: { width, height },
    scrollWidth: document.documentElement.scrollWidth,
    overflowing,
    verdict: box('[data-key="verdict"]'),
    realizedPnl: box('[data-key="realized-pnl"]'),
    charts,
    lowContrast,
  };
})()`;

describe.skipIf(!chromium)('the HTML report in Chromium', () => {
  let db: TestDatabase;
  let report: DailyReport;
  let browser: Browser;

  beforeAll(async () => {
    db = await createTestDatabase();
    const trades = [...generateTrades({ trades: 1200, symbols: 4, seed: 7, roundtripRate: 0.25 })];
    await insertTrades(db.pool, trades);
    await runFullRebuild(db, { version: 1 });
    const now = new Date(trades.at(-1)!.order_time);
    const inputs = await loadSampleReportInputs(db.pool, trades, now);
    report = await runDailyReport(db, {
      version: 1,
      now,
      settings: { ...DEFAULT_SETTINGS, priceTable: inputs.priceTable },
    });
    browser = await puppeteer.launch({
      executablePath: chromium!,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    await mkdir(dirname(SCREENSHOTS.desktop), { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await db?.drop();
  });

  async function open(width: number, height: number, scheme: 'light' | 'dark' = 'light'): Promise<Page> {
    const page = await browser.newPage();
    await page.setViewport({ width, height, deviceScaleFactor: 1 });
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: scheme }]);
    // No network: the email must carry everything it shows.
    await page.setRequestInterception(true);
    page.on('request', (request) =>
      request.url().startsWith('data:') ? request.continue() : request.abort('blockedbyclient'),
    );
    await page.setContent(report.html, { waitUntil: 'load' });
    return page;
  }

  it.each([
    { name: 'desktop', width: 1200, height: 900, screenshot: SCREENSHOTS.desktop },
    { name: 'phone', width: 375, height: 667, screenshot: SCREENSHOTS.phone },
  ])(
    'at $width px: no sideways scroll, verdict and realized PnL on the first screen, both charts drawn',
    async ({ width, height, screenshot }) => {
      // Why: the operator reads this on a phone as often as on a desktop; a cut-off column or a
      // chart that does not draw is a report that was not read.
      // Prepare
      const page = await open(width, height);

      // Act
      const layout = (await page.evaluate(MEASURE)) as Layout;
      await page.screenshot({ path: screenshot, fullPage: true });
      await page.close();

      // Assess
      expect(layout.viewport).toEqual({ width, height });
      expect(layout.overflowing).toEqual([]);
      expect(layout.scrollWidth).toBeLessThanOrEqual(width);
      expect(layout.verdict).not.toBeNull();
      expect(layout.verdict!.top).toBeGreaterThanOrEqual(0);
      expect(layout.verdict!.bottom).toBeLessThanOrEqual(height);
      expect(layout.realizedPnl).not.toBeNull();
      expect(layout.realizedPnl!.bottom).toBeLessThanOrEqual(height);
      expect(layout.charts.map((c) => c.name)).toEqual(['daily-pnl', 'equity']);
      for (const chart of layout.charts) {
        expect(chart.width).toBeGreaterThan(Math.min(width, 600) / 2);
        expect(chart.height).toBeGreaterThan(100);
        expect(chart.drawnBars).toBeGreaterThan(0);
        expect(chart.drawnBars).toBe(chart.bars);
      }
      expect(existsSync(screenshot)).toBe(true);
    },
  );

  it.each(['light', 'dark'] as const)(
    'shows no text without contrast against its background in %s mode',
    async (scheme) => {
      // Why: a dark-mode client that darkens the page but keeps a white text (or the reverse) hides the figures.
      // Prepare
      const page = await open(375, 667, scheme);

      // Act
      const layout = (await page.evaluate(MEASURE)) as Layout;
      const declared = await page.$eval('meta[name="color-scheme"]', (m) => m.getAttribute('content'));
      await page.close();

      // Assess
      expect(declared).toBe('light only');
      expect(layout.lowContrast).toEqual([]);
    },
  );

  it('is checked by measurements that do catch a page wider than the phone and an undrawn chart', async () => {
    // Why: proves the layout checks above are not vacuous.
    // Prepare
    const page = await browser.newPage();
    await page.setViewport({ width: 375, height: 667 });
    await page.setContent(
      '<table data-chart="x" style="width:800px"><tr><td data-bar="1" style="height:0"></td></tr></table>' +
        '<div data-key="verdict" style="margin-top:900px;color:#fff;background:#fff">hidden</div>',
    );

    // Act
    const layout = (await page.evaluate(MEASURE)) as Layout;
    await page.close();

    // Assess
    expect(layout.overflowing.length).toBeGreaterThan(0);
    expect(layout.scrollWidth).toBeGreaterThan(375);
    expect(layout.charts[0]!.drawnBars).toBe(0);
    expect(layout.verdict!.bottom).toBeGreaterThan(667);
    expect(layout.lowContrast).toContain('"hidden" rgb(255, 255, 255) on rgb(255, 255, 255)');
  });
});
