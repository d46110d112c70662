/** The OK / WARNING / STALE rules at the top of the email, one rule at a time (pure, no database). */
import { describe, expect, it } from 'vitest';
import type { Health, RunSummary } from '../../shared/jobs/health.ts';
import { judgeHealth } from '../../shared/report/verdict.ts';

const NOW = new Date('2024-03-11T12:00:00Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();
const run = (startedSecondsAgo: number, status = 'completed', error: string | null = null): RunSummary => ({
  id: '1',
  status,
  startedAt: ago(startedSecondsAgo),
  endedAt: ago(startedSecondsAgo - 1),
  durationMs: 1000,
  error,
});

/** A healthy version: fresh runs, nothing pending, no drift. */
function healthy(overrides: Partial<Health> = {}): Health {
  return {
    version: 1,
    lastRun: { full: run(3600), incremental: run(120) },
    lastSuccess: { full: run(3600), incremental: run(120) },
    lagSeconds: 0,
    pendingChanges: 0,
    unmatchedSells: { count: 0, rows: 0, bySymbol: [] },
    allocations: 10,
    openLots: 2,
    lastDrift: { at: ago(3600), rows: 0, usd: '0' },
    rejectedTrades: 0,
    abandonedRuns: 0,
    runInProgress: false,
    mirrorMismatches: 0,
    foreignRuns24h: 0,
    ...overrides,
  };
}

const judge = (health: Health, extra: { unmatched?: number; failed?: number } = {}) =>
  judgeHealth({
    health,
    now: NOW,
    unmatchedSellsInWindow: extra.unmatched ?? 0,
    failedRunsInWindow: extra.failed ?? 0,
  });

describe('the verdict', () => {
  it('is OK when everything is fresh and clean', () => {
    // Why: the common case must not cry wolf.
    // Prepare
    const health = healthy();

    // Act
    const result = judge(health);

    // Assess
    expect(result).toEqual({ verdict: 'OK', reasons: [] });
  });

  it('is STALE when the oldest pending change is older than 15 minutes', () => {
    // Why: lag is the first sign that the 5-minute schedule stopped.
    // Prepare
    const health = healthy({
      pendingChanges: 3,
      lagSeconds: 16 * 60,
      lastSuccess: { full: run(3600), incremental: run(60) },
    });

    // Act
    const result = judge(health);

    // Assess
    expect(result.verdict).toBe('STALE');
    expect(result.reasons[0]!.text).toBe('the oldest of 3 pending changes is 16 min old (limit 15 min)');
  });

  it('is STALE when changes are pending and the last successful incremental run is old', () => {
    // Why: runs failing repeatedly leave changes pending while the lag may still look small.
    // Prepare
    const health = healthy({
      pendingChanges: 1,
      lagSeconds: 60,
      lastSuccess: { full: run(3600), incremental: run(20 * 60) },
    });

    // Act
    const result = judge(health);

    // Assess
    expect(result.verdict).toBe('STALE');
    expect(result.reasons.map((r) => r.text)).toEqual([
      '1 change pending and the last successful incremental run was 19 min ago (limit 15 min)',
    ]);
  });

  it('is not STALE for an old incremental run when nothing is pending', () => {
    // Why: a quiet market makes no changes; that is not staleness.
    // Prepare
    const health = healthy({ lastSuccess: { full: run(3600), incremental: run(5 * 3600) } });

    // Act
    const result = judge(health);

    // Assess
    expect(result.verdict).toBe('OK');
  });

  it('is STALE when no full rebuild succeeded in 26 hours, and honours a custom threshold', () => {
    // Why: the nightly proof missed; the thresholds are options.
    // Prepare
    const health = healthy({ lastSuccess: { full: run(27 * 3600), incremental: run(60) } });

    // Act
    const byDefault = judge(health);
    const relaxed = judgeHealth({
      health,
      now: NOW,
      unmatchedSellsInWindow: 0,
      failedRunsInWindow: 0,
      thresholds: { maxFullAgeHours: 48 },
    });
    const never = judge(healthy({ lastSuccess: { full: null, incremental: run(60) } }));

    // Assess
    expect(byDefault.verdict).toBe('STALE');
    expect(byDefault.reasons[0]!.text).toContain('no successful full rebuild in 26 h');
    expect(relaxed.verdict).toBe('OK');
    expect(never.reasons[0]!.text).toBe('no full rebuild has ever completed');
  });

  it('is FAILED when the last run of a job failed, most severe first', () => {
    // Why: a failing job stops the figures; the operator must see that before anything else.
    // Prepare
    const health = healthy({
      lastRun: { full: run(3600), incremental: run(60, 'failed', 'boom') },
      rejectedTrades: 1,
    });

    // Act
    const result = judge(health);

    // Assess
    expect(result.verdict).toBe('FAILED');
    expect(result.reasons.map((r) => [r.level, r.text])).toEqual([
      ['FAILED', 'the last incremental run failed: boom'],
      ['WARNING', '1 trade rejected (see fifo_rejected_trades)'],
    ]);
  });

  it('is WARNING for drift, unmatched sells, rejected trades, abandoned runs and runs failed in the window', () => {
    // Why: each of these means the figures are current but something needs a look.
    // Prepare
    const cases: [string, ReturnType<typeof judge>][] = [
      ['drift', judge(healthy({ lastDrift: { at: ago(3600), rows: 2, usd: '1500' } }))],
      ['drift in USD only', judge(healthy({ lastDrift: { at: ago(3600), rows: 0, usd: '-0.01' } }))],
      ['unmatched', judge(healthy(), { unmatched: 2 })],
      ['rejected', judge(healthy({ rejectedTrades: 1 }))],
      ['abandoned', judge(healthy({ abandonedRuns: 1 }))],
      ['failed in window', judge(healthy(), { failed: 1 })],
    ];

    // Act
    const verdicts = cases.map(([name, r]) => [name, r.verdict, r.reasons.length]);

    // Assess
    expect(verdicts).toEqual(cases.map(([name]) => [name, 'WARNING', 1]));
    expect(cases[0]![1].reasons[0]!.text).toBe('the last full rebuild found drift: 2 rows, 1500 USD');
  });

  it('is STALE over WARNING and lists both kinds of reasons, STALE first', () => {
    // Why: the banner shows the worst state but the reader needs every reason.
    // Prepare
    const health = healthy({ rejectedTrades: 2, lastSuccess: { full: null, incremental: run(60) } });

    // Act
    const result = judge(health);

    // Assess
    expect(result.verdict).toBe('STALE');
    expect(result.reasons.map((r) => r.level)).toEqual(['STALE', 'WARNING']);
  });

  it("adds the caller's notes as WARNING reasons and names the window as told, the rules unchanged", () => {
    // Why: `fifo health` judges by these same rules, and must say on stdout when it looked at the
    // embedded database and which window ("the last 24 h") its unmatched sells were counted in.
    // Prepare
    const health = healthy();

    // Act
    const noted = judgeHealth({
      health,
      now: NOW,
      unmatchedSellsInWindow: 1,
      failedRunsInWindow: 0,
      windowLabel: 'the last 24 h',
      notes: ['no DATABASE_URL: this is the embedded database'],
    });
    const stale = judgeHealth({
      health: healthy({ lastSuccess: { full: null, incremental: run(60) } }),
      now: NOW,
      unmatchedSellsInWindow: 0,
      failedRunsInWindow: 0,
      notes: ['a note'],
    });

    // Assess
    expect(noted).toEqual({
      verdict: 'WARNING',
      reasons: [
        { level: 'WARNING', text: 'no DATABASE_URL: this is the embedded database' },
        { level: 'WARNING', text: '1 sell in the last 24 h had no open lot for part or all of it' },
      ],
    });
    expect(stale.verdict).toBe('STALE');
    expect(stale.reasons.map((r) => r.level)).toEqual(['STALE', 'WARNING']);
  });
});
