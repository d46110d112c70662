/** The database commands: migrate, full, incremental, health, explain. */
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import type { HealthWindow, RunSummary } from '../../shared/jobs/health.ts';
import type { FullRebuildResult, Health, IncrementalResult, JobLogger } from '../../shared/jobs/index.ts';
import { MIN_TRADES_TO_PARTITION } from '../../shared/jobs/partitions/count.ts';
import type { Verdict, VerdictReason } from '../../shared/report/verdict.ts';
import { type CliDatabase, withDatabase } from './database.ts';
import { CliError } from './errors.ts';
import {
  finishPartitionsJson,
  fullForm,
  partitionJson,
  partitionText,
  planJson,
  planText,
  unfinishedText,
} from './full-partitions.ts';
import {
  cliVersion,
  DATABASE_ENVIRONMENT,
  exactOption,
  jsonOption,
  optionWithDefault,
  plural,
  usdText,
  versionOption,
  withEnvironment,
} from './options.ts';

// The jobs' code is loaded when a command runs, not at every start (bin/build.mjs).
const jobs = () => import('../../shared/jobs/index.ts');
const healthReads = () => import('../../shared/jobs/health.ts');

/** Logs to stderr, one line per event, so stdout stays the command's result. */
export const stderrLogger: JobLogger = {
  info: (message, ...extra) => process.stderr.write(`${message}${fields(extra)}\n`),
  warn: (message, ...extra) => process.stderr.write(`warning: ${message}${fields(extra)}\n`),
  error: (message, ...extra) => process.stderr.write(`error: ${message}${fields(extra)}\n`),
};
export const quietLogger: JobLogger = { ...stderrLogger, info: () => {} };

function fields(extra: Record<string, unknown>[]): string {
  const merged = Object.assign({}, ...extra);
  const keys = Object.keys(merged);
  return keys.length === 0 ? '' : ` ${JSON.stringify(merged)}`;
}

const takeOverOption = [
  '--take-over-version',
  "replace the rows of a version fifo-ledger did not write (the bot's version 2); see docs/migration.md",
] as const;

function progressPrinter(label: string): ((n: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = 0;
  return (n) => {
    if (Date.now() - last < 500) return;
    last = Date.now();
    process.stderr.write(`\r${label}: ${n.toLocaleString('en-US')} trades read`);
  };
}

export function fullJson(r: FullRebuildResult) {
  return {
    status: r.status,
    version: r.version,
    run_id: r.runId,
    dry_run: r.dryRun,
    trades: r.trades,
    symbols: r.symbols,
    allocations: r.allocations,
    rejected_trades: r.rejectedTrades,
    // Drift is counted one way in every command: allocation rows (drift_rows, as the run log and
    // health have it) and lot rows (drift_lot_rows), each named, never one sum of both.
    drift_rows: r.drift.rowsAdded + r.drift.rowsRemoved + r.drift.rowsChanged,
    drift_rows_added: r.drift.rowsAdded,
    drift_rows_removed: r.drift.rowsRemoved,
    drift_rows_changed: r.drift.rowsChanged,
    drift_lot_rows: r.drift.lotRows,
    drift_usd: r.drift.usd,
    pending_applied: {
      changes: r.pendingApplied.changes,
      symbols: r.pendingApplied.symbols,
      rows: r.pendingApplied.rows,
      lot_rows: r.pendingApplied.lotRows,
      usd: r.pendingApplied.usd,
    },
    realized_pnl_usd: r.realizedPnlUsd,
    duration_ms: r.durationMs,
  };
}

export function incrementalJson(r: IncrementalResult) {
  return {
    status: r.status,
    version: r.version,
    run_id: r.runId,
    trades_processed: r.tradesProcessed,
    symbols_replayed: r.symbolsReplayed,
    symbols_appended: r.symbolsAppended,
    changes_consumed: r.changesConsumed,
    mirrors_restored: r.mirrorsRestored,
    symbols_deferred: r.symbolsDeferred,
    allocations_created: r.allocationsCreated,
    allocations_removed: r.allocationsRemoved,
    rejected_trades: r.rejectedTrades,
    full_rebuild: r.fullRebuild ? fullJson(r.fullRebuild) : undefined,
    duration_ms: r.durationMs,
  };
}

/** Runs a job; with --json a failure still prints one object with status "failed". */
async function runAndPrint<T>(
  json: boolean,
  run: () => Promise<T>,
  toJson: (r: T) => object,
  toText: (r: T) => string,
) {
  let result: T;
  try {
    result = await run();
  } catch (error) {
    if (json)
      process.stdout.write(`${JSON.stringify({ status: 'failed', error: (error as Error).message })}\n`);
    throw new CliError((error as Error).message);
  }
  process.stdout.write(json ? `${JSON.stringify(toJson(result))}\n` : `${toText(result)}\n`);
}

/** What `fifo health` shows: the health, the report's verdict on it and the window it judged. */
export interface HealthView {
  readonly health: Health;
  readonly verdict: Verdict;
  readonly reasons: readonly VerdictReason[];
  readonly window: HealthWindow;
  readonly database: { readonly description: string; readonly embedded: boolean };
}

/** `fifo health` exits with these, so a cron job or a script can act; 1 is any error (main.ts). */
export const HEALTH_EXIT_CODES: Readonly<Record<Verdict, number>> = {
  OK: 0,
  WARNING: 2,
  STALE: 3,
  FAILED: 3,
};

/**
 * The window the verdict counts unmatched sells and failed runs in: the report's default,
 * DEFAULT_WINDOW_HOURS (a test keeps them equal; importing it here would load zod at every start).
 */
export const HEALTH_WINDOW_HOURS = 24;

/** The reason an embedded database is judged with: its figures are not the bot's. */
export const embeddedNote = (description: string) =>
  `no DATABASE_URL: this is the ${description.replace(/ \(no DATABASE_URL\)$/, '')}, not your bot's database`;

/**
 * Fails with one line, naming the versions that exist, unless the version was ever built
 * (fifo_versions) or holds allocations another program wrote.
 */
export async function assertVersionExists(db: CliDatabase, version: number): Promise<void> {
  const { beingBuiltText, listKnownVersions, versionBeingBuilt } = await healthReads();
  const known = await listKnownVersions(db.pool);
  if (known.includes(version)) return;
  const building = await versionBeingBuilt(db.pool, version);
  if (building?.runId) throw new CliError(beingBuiltText(version, building));
  throw new CliError(
    `version ${version} was never built in ${db.description}; versions that exist: ` +
      `${known.length ? known.join(', ') : 'none'} (build it with: fifo full --version ${version})`,
  );
}

/** Reads the health and judges it by the report's rules (shared/report/verdict.ts). */
export async function readHealthView(
  db: CliDatabase,
  version: number,
  options: { readonly now?: Date; readonly noteEmbedded?: boolean } = {},
): Promise<HealthView> {
  const now = options.now ?? new Date();
  const { readHealth, readHealthWindow } = await healthReads();
  const { judgeHealth } = await import('../../shared/report/verdict.ts');
  const health = await readHealth(db.pool, version);
  const window = await readHealthWindow(db.pool, version, now, HEALTH_WINDOW_HOURS);
  const judged = judgeHealth({
    health,
    now,
    unmatchedSellsInWindow: window.unmatchedSells,
    failedRunsInWindow: window.failedRuns,
    windowLabel: `the last ${window.hours} h`,
    notes: db.embedded && options.noteEmbedded !== false ? [embeddedNote(db.description)] : [],
  });
  return { health, ...judged, window, database: { description: db.description, embedded: db.embedded } };
}

function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/**
 * Drift, written one way by every command: allocation rows, then lot rows where they are known
 * (the run log records allocation rows only), then the PnL difference.
 */
export function driftText(rows: number, lotRows: number | null, usd: string, exact = false): string {
  return (
    `${plural(rows, 'allocation row')}${lotRows === null ? '' : ` and ${plural(lotRows, 'lot row')}`}, ` +
    `${usdText(usd, exact)} USD`
  );
}

/** "completed; started X, ended Y, took Z": a run's start and its end, never one for the other. */
function runText(r: RunSummary | null): string {
  if (!r) return 'never';
  const end =
    r.endedAt === null
      ? r.status === 'running'
        ? ', not ended yet'
        : ', no end recorded'
      : `, ended ${r.endedAt}${r.durationMs === null ? '' : `, took ${duration(r.durationMs)}`}`;
  return `${r.status}; started ${r.startedAt}${end}${r.error ? ` (${r.error})` : ''}`;
}

/** Sizes symbol by symbol, in each symbol's own units: never one total across assets. */
function unmatchedText(h: Health, window: HealthWindow): string {
  const u = h.unmatchedSells;
  const bySymbol = u.bySymbol.map((s) => `${s.symbol} ${plural(s.sells, 'sell')}, size ${s.size}`);
  return (
    `${u.count} all time, ${window.unmatchedSells} in the last ${window.hours} h` +
    (bySymbol.length ? ` (${bySymbol.join('; ')})` : '')
  );
}

export function healthText(view: HealthView, exact = false): string {
  const { health: h, window } = view;
  const success = (mode: 'full' | 'incremental') => {
    const r = h.lastSuccess[mode];
    return r !== null && r.id === h.lastRun[mode]?.id ? 'the last run above' : runText(r);
  };
  return [
    `verdict:                ${view.verdict}`,
    ...view.reasons.map((r) => `  ${r.level}: ${r.text}`),
    `version:                ${h.version}`,
    `database:               ${view.database.description}`,
    `last full rebuild:      ${runText(h.lastRun.full)}`,
    `last incremental run:   ${runText(h.lastRun.incremental)}`,
    `last successful full:   ${success('full')}`,
    `last successful incr.:  ${success('incremental')}`,
    `lag:                    ${h.lagSeconds} s (${plural(h.pendingChanges, 'pending change')})`,
    `allocations:            ${h.allocations} (${plural(h.openLots, 'open lot')})`,
    `unmatched sells:        ${unmatchedText(h, window)}`,
    `failed runs:            ${window.failedRuns} in the last ${window.hours} h`,
    `last drift:             ${h.lastDrift ? `${driftText(h.lastDrift.rows, null, h.lastDrift.usd, exact)} (full rebuild started ${h.lastDrift.at})` : 'no full rebuild yet'}`,
    `rejected trades:        ${h.rejectedTrades}${h.rejectedTrades ? ' (see fifo_rejected_trades)' : ''}`,
    `abandoned runs:         ${h.abandonedRuns}${h.runInProgress ? ' (a run is in progress)' : ''}`,
    `remaining_size mirror:  ${h.mirrorMismatches === 0 ? 'matches the lots' : `${h.mirrorMismatches} ${h.mirrorMismatches === 1 ? 'buy' : 'buys'} rewritten by another program (the next run puts them back; see docs/migration.md)`}`,
    `other FIFO writers:     ${h.foreignRuns24h === 0 ? 'none in 24 h' : `${h.foreignRuns24h} log ${h.foreignRuns24h === 1 ? 'row' : 'rows'} by another program in 24 h (the bot's FIFO script? see docs/migration.md)`}`,
  ].join('\n');
}

const runJson = (r: RunSummary | null) =>
  r && {
    id: r.id,
    status: r.status,
    started_at: r.startedAt,
    ended_at: r.endedAt,
    duration_ms: r.durationMs,
    error: r.error,
  };

/** `health --json`: snake_case like the other commands' JSON. */
export function healthJson(view: HealthView) {
  const { health: h, window } = view;
  return {
    verdict: view.verdict,
    reasons: view.reasons.map((r) => ({ level: r.level, text: r.text })),
    version: h.version,
    database: { description: view.database.description, embedded: view.database.embedded },
    window: {
      hours: window.hours,
      start: window.start,
      end: window.end,
      unmatched_sells: window.unmatchedSells,
      failed_runs: window.failedRuns,
    },
    last_run: { full: runJson(h.lastRun.full), incremental: runJson(h.lastRun.incremental) },
    last_success: { full: runJson(h.lastSuccess.full), incremental: runJson(h.lastSuccess.incremental) },
    lag_seconds: h.lagSeconds,
    pending_changes: h.pendingChanges,
    unmatched_sells: {
      count: h.unmatchedSells.count,
      rows: h.unmatchedSells.rows,
      by_symbol: h.unmatchedSells.bySymbol.map((s) => ({ symbol: s.symbol, sells: s.sells, size: s.size })),
    },
    allocations: h.allocations,
    open_lots: h.openLots,
    last_drift: h.lastDrift && { at: h.lastDrift.at, rows: h.lastDrift.rows, usd: h.lastDrift.usd },
    rejected_trades: h.rejectedTrades,
    abandoned_runs: h.abandonedRuns,
    run_in_progress: h.runInProgress,
    mirror_mismatches: h.mirrorMismatches,
    foreign_runs_24h: h.foreignRuns24h,
  };
}

function fullText(r: FullRebuildResult, exact: boolean): string {
  if (r.status === 'skipped') return 'skipped: another run of this version holds the lock';
  const d = r.drift;
  const p = r.pendingApplied;
  return (
    `${r.dryRun ? 'dry run: ' : ''}${r.trades} trades, ${r.symbols} symbols, ${r.allocations} allocations, ` +
    `${r.rejectedTrades} rejected; realized PnL ${usdText(r.realizedPnlUsd, exact)} USD; ` +
    `drift ${driftText(d.rowsAdded + d.rowsRemoved + d.rowsChanged, d.lotRows, d.usd, exact)} ` +
    `(allocation rows +${d.rowsAdded} added, -${d.rowsRemoved} removed, ~${d.rowsChanged} changed); ` +
    `${plural(p.changes, 'pending change')} ${r.dryRun ? 'would be ' : ''}applied ` +
    `(${plural(p.symbols, 'symbol')}, ${plural(p.rows, 'allocation row')}, ${plural(p.lotRows, 'lot row')}); ` +
    `${r.durationMs} ms`
  );
}

function incrementalText(r: IncrementalResult): string {
  if (r.status === 'skipped') return 'skipped: another run of this version holds the lock';
  return (
    `${r.tradesProcessed} trades processed, ${r.symbolsAppended} symbols appended, ` +
    `${r.symbolsReplayed} replayed, ${r.changesConsumed} changes consumed` +
    `${r.mirrorsRestored ? `, ${r.mirrorsRestored} remaining_size mirrors put back` : ''}` +
    `${r.symbolsDeferred ? `, ${plural(r.symbolsDeferred, 'symbol')} held by a partitioned rebuild left for the next run` : ''}; ${r.durationMs} ms`
  );
}

export function registerJobCommands(program: Command): void {
  withEnvironment(
    program
      .command('migrate')
      .description('create or adopt the schema (idempotent: applies only what is missing)')
      .action(async () => {
        await withDatabase(
          async (db) => {
            const [{ migrate }, { withConnection }] = await Promise.all([
              import('../../shared/db/migrate.ts'),
              import('../../shared/db/pool.ts'),
            ]);
            const { applied } = await withConnection(db, migrate);
            process.stdout.write(
              applied.length ? `applied: ${applied.join(', ')}\n` : 'schema is up to date\n',
            );
          },
          { schema: 'any' },
        );
      }),
    DATABASE_ENVIRONMENT.filter((n) => n !== 'FIFO_ALLOCATION_VERSION'),
  );

  withEnvironment(
    program
      .command('full')
      .description('recompute every symbol, compare with the stored allocations, apply and report the drift')
      .addOption(versionOption())
      .option('--dry-run', 'report the drift, change nothing')
      .addOption(
        optionWithDefault(
          '--partitions <K>',
          'split the symbols into K partitions, each on its own worker thread and connections',
          `one per core for ${MIN_TRADES_TO_PARTITION.toLocaleString('en-US')} trade records or more; else 1, as on the embedded database`,
        ),
      )
      .option('--plan <K>', 'record a run of K partitions for other processes to work, print its id')
      .option('--run <RUN>', 'with --partition: work one partition of a planned run')
      .option('--partition <I>', 'the partition to work, from 0')
      .option('--finish <RUN>', 'check every partition of a planned run completed, then log the run')
      .addOption(
        optionWithDefault(
          '--lock-wait <seconds>',
          'wait up to this long for a run holding the lock, then fail',
          '0: skip at once',
        ),
      )
      .option(...takeOverOption)
      .addOption(exactOption())
      .addOption(jsonOption())
      .action(
        async (opts: {
          version?: string;
          dryRun?: boolean;
          json?: boolean;
          exact?: boolean;
          takeOverVersion?: boolean;
          lockWait?: string;
          partitions?: string;
          plan?: string;
          run?: string;
          partition?: string;
          finish?: string;
        }) => {
          const version = cliVersion(opts.version);
          const form = fullForm(opts);
          const lockWait = opts.lockWait ?? '0';
          if (!/^\d+$/.test(lockWait)) {
            throw new CliError(`--lock-wait must be a whole number of seconds, got "${lockWait}"`);
          }
          const json = opts.json ?? false;
          const logger = json ? quietLogger : stderrLogger;
          await withDatabase(
            async (db) => {
              const j = await jobs();
              if (form.kind === 'plan') {
                await runAndPrint(
                  json,
                  () =>
                    j.planPartitionedRebuild(db, {
                      version,
                      partitions: form.partitions!,
                      dryRun: opts.dryRun,
                      takeOverVersion: opts.takeOverVersion,
                      lockWaitMs: Number(lockWait) * 1000 || undefined,
                      triggeredBy: 'cli',
                      logger,
                    }),
                  planJson,
                  planText,
                );
              } else if (form.kind === 'partition') {
                await runAndPrint(
                  json,
                  () =>
                    j.runRebuildPartition(db, {
                      runId: form.runId!,
                      partition: form.partition!,
                      holder: `cli pid ${process.pid}`,
                      logger,
                      onProgress: progressPrinter(`partition ${form.partition}`),
                    }),
                  partitionJson,
                  partitionText,
                );
              } else if (form.kind === 'finish') {
                await runAndPrint(
                  json,
                  async () => {
                    const r = await j.finishPartitionedRebuild(db, {
                      runId: form.runId!,
                      logger,
                      triggeredBy: 'cli',
                    });
                    if (r.status === 'failed') throw new CliError(unfinishedText(form.runId!, r));
                    return r;
                  },
                  (r) => ({
                    ...fullJson(r),
                    partitioned_run: form.runId,
                    partitions: finishPartitionsJson(r),
                  }),
                  (r) =>
                    `${fullText(r, opts.exact ?? false)}; ${plural(r.partitions.total, 'partition')} of run ${form.runId}`,
                );
              } else {
                await runAndPrint(
                  json,
                  async () =>
                    j.runFullRebuild(db, {
                      version,
                      dryRun: opts.dryRun,
                      takeOverVersion: opts.takeOverVersion,
                      lockWaitMs: Number(lockWait) * 1000,
                      partitions:
                        form.partitions ?? (await j.automaticPartitions(db, availableParallelism())),
                      triggeredBy: 'cli',
                      logger,
                      onProgress: progressPrinter('full rebuild'),
                    }),
                  fullJson,
                  (r) => fullText(r, opts.exact ?? false),
                );
              }
            },
            { quiet: opts.json },
          );
        },
      ),
    DATABASE_ENVIRONMENT,
  );

  withEnvironment(
    program
      .command('incremental')
      .description(
        'consume captured trade changes: append new trades, replay symbols with late or changed ones',
      )
      .addOption(versionOption())
      .option('--since <TEXT>', 'also replay every symbol since this time ("10 minutes ago" or ISO-8601)')
      .option(...takeOverOption)
      .addOption(jsonOption())
      .action(
        async (opts: { version?: string; since?: string; json?: boolean; takeOverVersion?: boolean }) => {
          const version = cliVersion(opts.version);
          await withDatabase(
            async (db) => {
              const { runIncremental } = await jobs();
              await runAndPrint(
                opts.json ?? false,
                () =>
                  runIncremental(db, {
                    version,
                    since: opts.since,
                    takeOverVersion: opts.takeOverVersion,
                    triggeredBy: 'cli',
                    logger: opts.json ? quietLogger : stderrLogger,
                    onProgress: progressPrinter('incremental'),
                  }),
                incrementalJson,
                incrementalText,
              );
            },
            { quiet: opts.json },
          );
        },
      ),
    DATABASE_ENVIRONMENT,
  );

  withEnvironment(
    program
      .command('health')
      .description(
        'the verdict (OK, WARNING, STALE) and its reasons, last runs, lag, pending changes, unmatched sells, ' +
          'last drift; exits 0 OK, 2 WARNING, 3 STALE, 1 on error',
      )
      .addOption(versionOption())
      .addOption(exactOption())
      .addOption(jsonOption())
      .action(async (opts: { version?: string; json?: boolean; exact?: boolean }) => {
        const version = cliVersion(opts.version);
        await withDatabase(
          async (db) => {
            await assertVersionExists(db, version);
            const view = await readHealthView(db, version);
            process.stdout.write(
              opts.json ? `${JSON.stringify(healthJson(view))}\n` : `${healthText(view, opts.exact)}\n`,
            );
            process.exitCode = HEALTH_EXIT_CODES[view.verdict];
          },
          { quiet: opts.json },
        );
      }),
    DATABASE_ENVIRONMENT,
  );

  withEnvironment(
    program
      .command('explain')
      .description(
        'what FIFO made of any trade: a sell, each lot slice it took and any part no lot covered; a buy, its lot, ' +
          'the sells that took from it and what remains; a trade left out, the rule that excluded it',
      )
      .argument('<order_id>', 'the order_id of the trade (a sell or a buy)')
      .addOption(versionOption())
      .addOption(exactOption())
      .addOption(jsonOption())
      .action(async (orderId: string, opts: { version?: string; json?: boolean; exact?: boolean }) => {
        const version = cliVersion(opts.version);
        await withDatabase(
          async (db) => {
            const { explainOrder, explanationText } = await import('./explain.ts');
            const e = await explainOrder(db.pool, version, orderId);
            if (opts.json) process.stdout.write(`${JSON.stringify(e)}\n`);
            if (e.kind === 'not_found') {
              const message = explanationText(e);
              if (!opts.json) throw new CliError(message);
              process.stderr.write(`fifo: ${message}\n`);
              process.exitCode = 1;
              return;
            }
            if (!opts.json) process.stdout.write(`${explanationText(e, opts.exact)}\n`);
          },
          { quiet: opts.json },
        );
      }),
    DATABASE_ENVIRONMENT,
  );
}
