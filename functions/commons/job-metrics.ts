/** The metrics of a full rebuild and of the health read, shared by the handlers that produce them. */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { FullRebuildResult, Health } from '../../shared/jobs/index.ts';
import { METRICS } from './constants.ts';
import { emit } from './metrics.ts';

/**
 * FullRebuildSucceeded is 1 only for a completed run that applied its result; the drift of a
 * completed run (a dry run's included: drift is a finding either way) feeds the drift alarm.
 */
export function emitFullRebuild(metrics: Metrics, result: FullRebuildResult): void {
  emit(metrics, METRICS.fullRebuildSucceeded, result.status === 'completed' && !result.dryRun ? 1 : 0);
  emit(metrics, METRICS.fullRebuildDuration, result.durationMs);
  if (result.status !== 'completed') return;
  emit(metrics, METRICS.driftRows, result.drift.rows);
  // A metric value, not money math: the exact figure is in the run log and the result.
  emit(metrics, METRICS.driftUsd, Number(result.drift.usd));
}

/** Freshness and backlog after a run: emitted on every incremental run, 0 included. */
export function emitHealth(metrics: Metrics, health: Health): void {
  emit(metrics, METRICS.freshnessLag, health.lagSeconds);
  emit(metrics, METRICS.pendingChanges, health.pendingChanges);
  emit(metrics, METRICS.unmatchedSells, health.unmatchedSells.count);
  emit(metrics, METRICS.rejectedTrades, health.rejectedTrades);
}
