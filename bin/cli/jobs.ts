/** The database commands: migrate, full, incremental, health, explain. */
import type { Command } from 'commander';
import { migrate } from '../../shared/db/migrate.ts';
import { withConnection } from '../../shared/db/pool.ts';
import {
  explainSell,
  type FullRebuildResult,
  type Health,
  type IncrementalResult,
  type JobLogger,
  readHealth,
  resolveVersion,
  runFullRebuild,
  runIncremental,
} from '../../shared/jobs/index.ts';
import { withDatabase } from './database.ts';
import { CliError } from './errors.ts';

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

const versionOption = [
  '--version <N>',
  'allocation version (default: FIFO_ALLOCATION_VERSION or 1)',
] as const;

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
    drift_rows: r.drift.rows,
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
    allocations_created: r.allocationsCreated,
    allocations_removed: r.allocationsRemoved,
    rejected_trades: r.rejectedTrades,
    full_rebuild: r.fullRebuild ? fullJson(r.fullRebuild) : undefined,
    duration_ms: r.durationMs,
  };
}

/** Runs a job; with --json a failure still prints one object with status "failed". */
async function report<T>(
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

export function healthText(h: Health): string {
  const run = (r: Health['lastRun']['full']) =>
    r
      ? `${r.status} at ${r.startedAt}${r.durationMs === null ? '' : ` in ${r.durationMs} ms`}${r.error ? ` (${r.error})` : ''}`
      : 'never';
  return [
    `version ${h.version}`,
    `last full rebuild:      ${run(h.lastRun.full)}`,
    `last incremental run:   ${run(h.lastRun.incremental)}`,
    `last successful full:   ${h.lastSuccess.full?.startedAt ?? 'never'}`,
    `last successful incr.:  ${h.lastSuccess.incremental?.startedAt ?? 'never'}`,
    `lag:                    ${h.lagSeconds} s (${h.pendingChanges} pending changes)`,
    `allocations:            ${h.allocations} (${h.openLots} open lots)`,
    `unmatched sells:        ${h.unmatchedSells.count} (size ${h.unmatchedSells.size})`,
    `last drift:             ${h.lastDrift ? `${h.lastDrift.rows} rows, ${h.lastDrift.usd} USD at ${h.lastDrift.at}` : 'no full rebuild yet'}`,
    `rejected trades:        ${h.rejectedTrades}${h.rejectedTrades ? ' (see fifo_rejected_trades)' : ''}`,
    `abandoned runs:         ${h.abandonedRuns}${h.runInProgress ? ' (a run is in progress)' : ''}`,
    `remaining_size mirror:  ${h.mirrorMismatches === 0 ? 'matches the lots' : `${h.mirrorMismatches} buys rewritten by another program (the next run puts them back; see docs/migration.md)`}`,
    `other FIFO writers:     ${h.foreignRuns24h === 0 ? 'none in 24 h' : `${h.foreignRuns24h} log rows by another program in 24 h (the bot's FIFO script? see docs/migration.md)`}`,
  ].join('\n');
}

export function registerJobCommands(program: Command): void {
  program
    .command('migrate')
    .description('create or adopt the schema (idempotent: applies only what is missing)')
    .action(async () => {
      await withDatabase(
        async (db) => {
          const { applied } = await withConnection(db, migrate);
          process.stdout.write(
            applied.length ? `applied: ${applied.join(', ')}\n` : 'schema is up to date\n',
          );
        },
        { schema: 'any' },
      );
    });

  program
    .command('full')
    .description('recompute every symbol, compare with the stored allocations, apply and report the drift')
    .option(...versionOption)
    .option('--dry-run', 'report the drift, change nothing')
    .option(
      '--lock-wait <seconds>',
      'wait up to this long for a run holding the lock, then fail (default: 0, skip at once)',
    )
    .option(...takeOverOption)
    .option('--json', 'print one JSON object')
    .action(
      async (opts: {
        version?: string;
        dryRun?: boolean;
        json?: boolean;
        takeOverVersion?: boolean;
        lockWait?: string;
      }) => {
        const version = resolveVersion(opts.version);
        const lockWait = opts.lockWait ?? '0';
        if (!/^\d+$/.test(lockWait)) {
          throw new CliError(`--lock-wait must be a whole number of seconds, got "${lockWait}"`);
        }
        await withDatabase(
          (db) =>
            report(
              opts.json ?? false,
              () =>
                runFullRebuild(db, {
                  version,
                  dryRun: opts.dryRun,
                  takeOverVersion: opts.takeOverVersion,
                  lockWaitMs: Number(lockWait) * 1000,
                  triggeredBy: 'cli',
                  logger: opts.json ? quietLogger : stderrLogger,
                  onProgress: progressPrinter('full rebuild'),
                }),
              fullJson,
              (r) =>
                r.status === 'skipped'
                  ? 'skipped: another run of this version holds the lock'
                  : `${r.dryRun ? 'dry run: ' : ''}${r.trades} trades, ${r.symbols} symbols, ${r.allocations} allocations, ` +
                    `${r.rejectedTrades} rejected; drift ${r.drift.rows} rows (+${r.drift.rowsAdded} -${r.drift.rowsRemoved} ` +
                    `~${r.drift.rowsChanged}, ${r.drift.lotRows} lot rows), ${r.drift.usd} USD; ` +
                    `${r.pendingApplied.changes} pending changes ${r.dryRun ? 'would be ' : ''}applied ` +
                    `(${r.pendingApplied.symbols} symbols, ${r.pendingApplied.rows} rows); ${r.durationMs} ms`,
            ),
          { quiet: opts.json },
        );
      },
    );

  program
    .command('incremental')
    .description(
      'consume captured trade changes: append new trades, replay symbols with late or changed ones',
    )
    .option(...versionOption)
    .option('--since <TEXT>', 'also replay every symbol since this time ("10 minutes ago" or ISO-8601)')
    .option(...takeOverOption)
    .option('--json', 'print one JSON object')
    .action(async (opts: { version?: string; since?: string; json?: boolean; takeOverVersion?: boolean }) => {
      const version = resolveVersion(opts.version);
      await withDatabase(
        (db) =>
          report(
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
            (r) =>
              r.status === 'skipped'
                ? 'skipped: another run of this version holds the lock'
                : `${r.tradesProcessed} trades processed, ${r.symbolsAppended} symbols appended, ` +
                  `${r.symbolsReplayed} replayed, ${r.changesConsumed} changes consumed` +
                  `${r.mirrorsRestored ? `, ${r.mirrorsRestored} remaining_size mirrors put back` : ''}; ${r.durationMs} ms`,
          ),
        { quiet: opts.json },
      );
    });

  program
    .command('health')
    .description('last runs, lag, pending changes, unmatched sells, allocations, last drift')
    .option(...versionOption)
    .option('--json', 'print one JSON object')
    .action(async (opts: { version?: string; json?: boolean }) => {
      const version = resolveVersion(opts.version);
      await withDatabase(
        async (db) => {
          const health = await readHealth(db.pool, version);
          process.stdout.write(opts.json ? `${JSON.stringify(health)}\n` : `${healthText(health)}\n`);
        },
        { quiet: opts.json },
      );
    });

  program
    .command('explain')
    .description('show how a sell was allocated: each lot slice it took and any unmatched remainder')
    .argument('<sell_order_id>', 'the order_id of the sell')
    .option(...versionOption)
    .option('--json', 'print one JSON object')
    .action(async (sellOrderId: string, opts: { version?: string; json?: boolean }) => {
      const version = resolveVersion(opts.version);
      await withDatabase(
        async (db) => {
          const e = await explainSell(db.pool, version, sellOrderId);
          if (!e.sell && e.slices.length === 0 && !e.unmatched) {
            throw new CliError(
              `no trade and no allocation with order_id "${sellOrderId}" (version ${version})`,
            );
          }
          if (opts.json) {
            process.stdout.write(`${JSON.stringify(e)}\n`);
            return;
          }
          const lines = [
            e.sell
              ? `${e.sell.side} ${e.sell.order_id} ${e.sell.symbol} at ${e.sell.order_time}: size ${e.sell.size} @ ${e.sell.price}, fee ${e.sell.fee ?? '0'}`
              : `${sellOrderId}: no longer in the trade source (its allocations remain until the next run)`,
          ];
          if (e.rejection) lines.push(`rejected: ${e.rejection}`);
          for (const s of e.slices) {
            lines.push(
              `  from lot ${s.buyOrderId} bought ${s.buyTime} @ ${s.buyPrice}: size ${s.size}, cost ${s.costBasisUsd}, ` +
                `net proceeds ${s.netProceedsUsd}, pnl ${s.pnlUsd}`,
            );
          }
          if (e.unmatched) {
            lines.push(
              `  unmatched: size ${e.unmatched.size}, net proceeds ${e.unmatched.netProceedsUsd} (${e.unmatched.notes})`,
            );
          }
          lines.push(`realized pnl: ${e.realizedPnlUsd} USD (version ${version})`);
          process.stdout.write(`${lines.join('\n')}\n`);
        },
        { quiet: opts.json },
      );
    });
}
