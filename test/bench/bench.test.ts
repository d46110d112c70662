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
import { serverUrl } from '../support/database.ts';

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

describe('the benchmark harness (needs a server: it creates databases)', { tags: 'server' }, () => {
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
      '--partitions',
      '1,2',
      '--replay-sizes',
      '1000,2000',
      '--upserts',
      '50',
      '--json',
      out,
    ]);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const figures = JSON.parse(await readFile(out, 'utf8'));
    expect(Object.keys(figures)).toEqual(
      expect.arrayContaining(['machine', 'sizes', 'recording_overhead_ratio', 'replay', 'replays']),
    );
    expect(figures.machine.cpus).toBeGreaterThan(0);
    expect(figures.machine.partitions).toEqual([1, 2]);
    expect(figures.machine.load_average_start).toHaveLength(3);
    expect(figures.machine.load_average_end).toHaveLength(3);
    expect(figures.sizes).toHaveLength(1);
    const size = figures.sizes[0];
    expect(size.trades).toBe(1000);
    expect(size.symbols).toBe(3);
    for (const key of [
      'floor_s',
      'floor_allocations_s',
      'full_s',
      'full_best_s',
      'validate_s',
      'incr_append100_s',
      'incr_late100_s',
      'incr_append1000_s',
      'peak_rss_mb',
      'load_s',
    ]) {
      expect(size[key], key).toBeGreaterThan(0);
    }
    // The full rebuild really ran: it wrote allocations and lots, and the floor took in as many.
    expect(size.allocations).toBeGreaterThan(0);
    expect(size.lots).toBeGreaterThan(0);
    // The floor counts every row the rebuild writes: more than the allocations alone.
    expect(size.floor_s).toBeGreaterThan(size.floor_allocations_s);
    for (const key of [
      'floor_s',
      'floor_allocations_s',
      'copy_out_s',
      'allocations_in_s',
      'lots_in_s',
      'remaining_update_s',
      'commit_s',
      'wal_mb',
    ]) {
      expect(size.floor[key], `floor.${key}`).toBeGreaterThan(0);
    }
    // The mirror's UPDATE wrote one row per lot (one per buy), as the rebuild does.
    expect(size.floor.remaining_rows).toBe(size.lots);
    expect([1, 2]).toContain(size.best_partitions);

    // One full rebuild from empty per K, each with its CPU per process, on its own copy.
    expect(size.rebuilds.map((r: { partitions: number }) => r.partitions)).toEqual([1, 2]);
    for (const rebuild of size.rebuilds) {
      for (const key of [
        'seconds',
        'peak_rss_mb',
        'engine_cpu_s',
        'cpu_total_s',
        'cpu_per_core_s',
        'ratio_floor',
        'ratio_floor_allocations',
        'wal_mb',
      ]) {
        expect(rebuild[key], `K=${rebuild.partitions} ${key}`).toBeGreaterThan(0);
      }
      for (const key of ['reader', 'writer', 'parallel_worker', 'other']) {
        expect(rebuild.backend_cpu_s[key], `backend_cpu_s.${key}`).toBeGreaterThanOrEqual(0);
      }
      // The server in the tests is local, so each backend's CPU is read from /proc.
      expect(rebuild.backends.length, 'backends sampled').toBeGreaterThan(0);
      expect(rebuild.backend_cpu_s.total).toBeGreaterThan(0);
      expect(rebuild.cpu_total_s).toBeCloseTo(rebuild.engine_cpu_s + rebuild.backend_cpu_s.total, 6);
      expect(rebuild.allocations).toBe(size.allocations);
      expect(rebuild.lots).toBe(size.lots);
      // Every K writes the same rows as K = 1.
      expect(rebuild.identical, `K=${rebuild.partitions} identical`).toBe(true);
      expect(rebuild.load_before).toBeGreaterThanOrEqual(0);
      expect(rebuild.readers).toBeGreaterThanOrEqual(0);
    }
    expect(size.full_s).toBe(size.rebuilds[0].seconds);

    expect(figures.replays.map((r: { trades: number }) => r.trades)).toEqual([1000, 2000]);
    for (const replay of figures.replays) {
      for (const key of ['replay_s', 'replay_peak_rss_mb', 'engine_s', 'ratio']) {
        expect(replay[key], `replay ${key}`).toBeGreaterThan(0);
      }
    }
    expect(figures.replay.trades).toBe(2000);
    expect(figures.recording_overhead_ratio).toBeGreaterThan(0);

    expect(run.stdout).toContain(
      '| trades | floor (a) | allocations-only floor (a0) | full K=1 (b1) | b1/a | b1/a0 | best K |',
    );
    expect(run.stdout).toMatch(/\| 1,000 \| [\d.]+ s \| [\d.]+ s \| [\d.]+ s \| [\d.]+ \| [\d.]+ \| [12] \|/);
    expect(run.stdout).toContain('| trades | COPY out | allocations in | lots in | remaining_size UPDATE |');
    expect(run.stdout).toContain('| trades | K | full | /a | /a0 | engine process | reader backends |');
    expect(run.stdout).toMatch(/\| 1,000 \| 1 \| [\d.]+ s \| [\d.]+ \| [\d.]+ \| [\d.]+ s \|/);
    expect(run.stdout).toMatch(/\| 1,000 \| 2 \| [\d.]+ s \| [\d.]+ \| [\d.]+ \| [\d.]+ s \|/);
    expect(run.stdout).toMatch(/CPU total \/ \d+ cores/);
    expect(run.stdout).toMatch(/fifo replay, 1,000 trades CSV to CSV/);
    expect(run.stdout).toMatch(/fifo replay, 2,000 trades CSV to CSV/);
    expect(run.stdout).toMatch(/load average [\d.]+ [\d.]+ [\d.]+ at the start/);
    expect(await benchDatabases()).toEqual(before);
    // Two rebuilds, two replays and worker threads starting: over a minute on a busy 2-core machine.
  }, 240_000);

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
