/**
 * The verdict at the top of the email, from readHealth (shared/jobs/health.ts) and two facts
 * of the window. Pure: no clock, no database.
 *
 * FAILED (the jobs are failing: the figures stop moving) when the last run of either job
 * failed.
 * STALE (the figures may be out of date) when any of:
 *   - the oldest pending change is older than maxLagMinutes (default 15);
 *   - changes are pending and the last successful incremental run is older than
 *     maxIncrementalAgeMinutes (default 15), or there was none;
 *   - no successful full rebuild in maxFullAgeHours (default 26).
 * WARNING (the figures are current but something needs a look) when any of:
 *   - the last full rebuild found drift (rows or USD);
 *   - sells in the window have an unmatched remainder;
 *   - trades are rejected (fifo_rejected_trades);
 *   - runs were abandoned, or a run failed in the window.
 * OK otherwise. Every reason found is listed, the most severe first.
 *
 * The same rules judge the email and `fifo health`; a caller may add notes the rules cannot
 * see (the CLI's "no DATABASE_URL: this is the embedded database"), each a WARNING reason.
 */
import type { Health } from '../jobs/health.ts';

export type Verdict = 'OK' | 'WARNING' | 'STALE' | 'FAILED';

export interface HealthThresholds {
  /** @default 15 */
  readonly maxLagMinutes?: number;
  /** @default 15 */
  readonly maxIncrementalAgeMinutes?: number;
  /** @default 26 */
  readonly maxFullAgeHours?: number;
}

export const DEFAULT_THRESHOLDS: Required<HealthThresholds> = {
  maxLagMinutes: 15,
  maxIncrementalAgeMinutes: 15,
  maxFullAgeHours: 26,
};

export interface VerdictReason {
  readonly level: Exclude<Verdict, 'OK'>;
  readonly text: string;
}

export interface VerdictInput {
  readonly health: Health;
  /** The report's time; ages are measured from it (never negative). */
  readonly now: Date;
  readonly unmatchedSellsInWindow: number;
  readonly failedRunsInWindow: number;
  readonly thresholds?: HealthThresholds;
  /** How the reasons name the window. @default 'the window' */
  readonly windowLabel?: string;
  /** WARNING reasons from the caller, listed before the rules' own warnings. */
  readonly notes?: readonly string[];
}

/** Seconds from an ISO instant to now, never negative. */
export const ageSeconds = (iso: string, now: Date): number =>
  Math.max(0, (now.getTime() - Date.parse(iso)) / 1000);

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function judgeHealth(input: VerdictInput): { verdict: Verdict; reasons: VerdictReason[] } {
  const t = { ...DEFAULT_THRESHOLDS, ...input.thresholds };
  const { health: h, now } = input;
  const window = input.windowLabel ?? 'the window';
  const reasons: VerdictReason[] = [];
  const stale = (text: string) => reasons.push({ level: 'STALE', text });
  const failed = (text: string) => reasons.push({ level: 'FAILED', text });

  for (const [mode, run] of [
    ['full rebuild', h.lastRun.full],
    ['incremental run', h.lastRun.incremental],
  ] as const) {
    if (run?.status === 'failed') failed(`the last ${mode} failed${run.error ? `: ${run.error}` : ''}`);
  }
  const warn = (text: string) => reasons.push({ level: 'WARNING', text });

  if (h.pendingChanges > 0 && h.lagSeconds > t.maxLagMinutes * 60) {
    stale(
      `the oldest of ${plural(h.pendingChanges, 'pending change')} is ${Math.floor(h.lagSeconds / 60)} min old ` +
        `(limit ${t.maxLagMinutes} min)`,
    );
  }
  const incremental = h.lastSuccess.incremental;
  if (h.pendingChanges > 0) {
    if (!incremental) {
      stale(`${plural(h.pendingChanges, 'change')} pending and no incremental run has ever completed`);
    } else {
      const age = ageSeconds(incremental.endedAt ?? incremental.startedAt, now);
      if (age > t.maxIncrementalAgeMinutes * 60) {
        stale(
          `${plural(h.pendingChanges, 'change')} pending and the last successful incremental run was ` +
            `${Math.floor(age / 60)} min ago (limit ${t.maxIncrementalAgeMinutes} min)`,
        );
      }
    }
  }
  const full = h.lastSuccess.full;
  if (!full) {
    stale('no full rebuild has ever completed');
  } else {
    const age = ageSeconds(full.endedAt ?? full.startedAt, now);
    if (age > t.maxFullAgeHours * 3600) {
      stale(`no successful full rebuild in ${t.maxFullAgeHours} h (last ${Math.floor(age / 3600)} h ago)`);
    }
  }

  for (const note of input.notes ?? []) warn(note);
  if (h.lastDrift && (h.lastDrift.rows !== 0 || !/^-?0(\.0*)?$/.test(h.lastDrift.usd))) {
    warn(`the last full rebuild found drift: ${plural(h.lastDrift.rows, 'row')}, ${h.lastDrift.usd} USD`);
  }
  if (input.unmatchedSellsInWindow > 0) {
    warn(
      `${plural(input.unmatchedSellsInWindow, 'sell')} in ${window} had no open lot for part or all of it`,
    );
  }
  if (h.rejectedTrades > 0) {
    warn(`${plural(h.rejectedTrades, 'trade')} rejected (see fifo_rejected_trades)`);
  }
  if (h.abandonedRuns > 0) {
    warn(`${plural(h.abandonedRuns, 'run')} abandoned (marked running, but no process holds the lock)`);
  }
  if (input.failedRunsInWindow > 0) {
    warn(`${plural(input.failedRunsInWindow, 'run')} failed in ${window}`);
  }

  const verdict: Verdict = reasons.some((r) => r.level === 'FAILED')
    ? 'FAILED'
    : reasons.some((r) => r.level === 'STALE')
      ? 'STALE'
      : reasons.length > 0
        ? 'WARNING'
        : 'OK';
  return { verdict, reasons };
}
