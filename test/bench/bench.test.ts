/**
 * `npm run bench` and `npm run bench:profile` as a user runs them, at the smallest size: the
 * 1M figures are measured by hand, never in the test suite, but the harness that produces
 * them must keep working and keep the --json shape that runs are compared by.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsServer, serverUrl } from '../support/database.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function npmRun(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      'npm',
      ['run', '--silent', script, '--', ...args],
      { cwd: repo, timeout: 240_000, maxBuffer: 1 << 24, env: { ...process.env, DATABASE_URL: serverUrl } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** Databases the benchmark creates on the server, to check that it leaves none behind. */
async function benchDatabases(): Promise<string[]> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'fifo\\_bench\\_%' ORDER BY 1",
    );
    return rows.map((r) => r.datname);
  } finally {
    await client.end();
  }
}

describe.skipIf(needsServer)('the benchmark harness (needs a server: it creates databases)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fifo-bench-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes every figure in the agreed --json shape, prints the table, and drops its databases', async () => {
    // Why: the JSON is how runs are compared over time; a renamed or missing figure, or a
    // benchmark that leaves 1M-trade databases behind, would go unnoticed until a 1M run.
    // Prepare
    const before = await benchDatabases();
    const out = join(dir, 'bench.json');

    // Act
    const run = await npmRun('bench', [
      '--sizes',
      '1000',
      '--symbols',
      '3',
      '--upserts',
      '50',
      '--json',
      out,
    ]);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const figures = JSON.parse(await readFile(out, 'utf8'));
    expect(Object.keys(figures)).toEqual(
      expect.arrayContaining(['machine', 'sizes', 'recording_overhead_ratio']),
    );
    expect(figures.machine.cpus).toBeGreaterThan(0);
    expect(figures.sizes).toHaveLength(1);
    const size = figures.sizes[0];
    expect(size.trades).toBe(1000);
    for (const key of [
      'floor_s',
      'full_s',
      'validate_s',
      'incr_append100_s',
      'incr_late100_s',
      'incr_append1000_s',
      'peak_rss_mb',
    ]) {
      expect(size[key], key).toBeGreaterThan(0);
    }
    // The full rebuild really ran: it wrote allocations, and the floor copied as many rows.
    expect(size.allocations).toBeGreaterThan(0);
    expect(figures.recording_overhead_ratio).toBeGreaterThan(0);
    expect(run.stdout).toContain('| trades | floor (a) | full (b) | b/a |');
    expect(run.stdout).toMatch(/\| 1,000 \| [\d.]+ s \| [\d.]+ s \| [\d.]+ \|/);
    expect(await benchDatabases()).toEqual(before);
  });

  it('profiles a first build statement by statement', async () => {
    // Why: the README's explanation of (b) quotes this profile; it must still name the
    // statements that take the time and the CPU of the rebuild's process.
    // Act
    const run = await npmRun('bench:profile', ['--trades', '2000', '--symbols', '3']);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('| statement | count | total |');
    expect(run.stdout).toMatch(/\| `COPY fifo_allocations \(sell_order_id/);
    expect(run.stdout).toMatch(/\| \d+ other statements \| \d+ \| [\d.]+ s \|/);
    expect(run.stdout).toMatch(
      /full rebuild: completed, 2000 trades, \d+ allocations, [\d.]+ s; this process used [\d.]+ s of CPU/,
    );
  });
});
