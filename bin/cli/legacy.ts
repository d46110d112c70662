/**
 * Adopting the bot's database and retiring its legacy PnL columns (docs/migration.md):
 *
 *   fifo adopt --check [--json]                          what migrate would do; changes nothing
 *   fifo legacy archive [--json]                         legacy PnL columns -> archive, then NULL
 *   fifo legacy restore [--json]                         archived values back where NULL
 *   fifo reconcile [--hours N | --all] [--version N] [--limit N] [--json]
 *   fifo compare --versions A,B [--limit N] [--json]
 *   fifo prune --keep N [--active N] [--dry-run] [--json]
 */
import type { Command } from 'commander';
import { withConnection } from '../../shared/db/pool.ts';
import { resolveVersion } from '../../shared/jobs/index.ts';
import type { AdoptionCheck } from '../../shared/legacy/adopt-check.ts';
import { adoptionJson, adoptionReport, blockersOf } from '../../shared/legacy/adopt-check-output.ts';
import {
  archiveLegacy,
  archiveText,
  checkAdoption,
  compareVersions,
  comparisonText,
  LegacyError,
  pruneText,
  pruneVersions,
  reconcileLegacy,
  reconciliationText,
  restoreLegacy,
  restoreText,
  VersionError,
} from '../../shared/legacy/index.ts';
import { withDatabase } from './database.ts';
import { CliError } from './errors.ts';

const print = (json: boolean, value: object, text: () => string) =>
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : text());

/** The operator's errors (refusals, bad input) without a stack; anything else as is. */
async function operatorErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof LegacyError || error instanceof VersionError || error instanceof RangeError) {
      throw new CliError(error.message);
    }
    throw error;
  }
}

function wholeNumber(name: string, value: string, min: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > 2_147_483_647) {
    throw new CliError(`${name} must be a whole number >= ${min}, got "${value}"`);
  }
  return n;
}

function parseVersions(value: string): [number, number] {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.length !== 2) throw new CliError(`--versions takes two versions, e.g. 2,3; got "${value}"`);
  const [a, b] = parts.map((p) => wholeNumber('--versions', p, 1)) as [number, number];
  if (a === b) throw new CliError(`--versions must name two different versions, got "${value}"`);
  return [a, b];
}

export function registerLegacyCommands(program: Command): void {
  program
    .command('adopt')
    .description('show what "fifo migrate" would do to this database (read-only); exits 1 on a blocker')
    .requiredOption('--check', 'only check (required: adopting is "fifo migrate")')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      await withDatabase(
        async (db) => {
          let check: AdoptionCheck;
          try {
            check = await withConnection(db, checkAdoption);
          } catch (error) {
            // Whatever the shape, the check itself never ends in a stack trace.
            throw new CliError(`adopt --check could not read ${db.description}: ${(error as Error).message}`);
          }
          print(opts.json ?? false, adoptionJson(check, db.description), () =>
            adoptionReport(check, db.description),
          );
          // One line per blocker on stderr, for the operator and for scripts; exit 1.
          const blockers = blockersOf(check);
          for (const b of blockers) process.stderr.write(`fifo: blocker: ${b.message}\n`);
          if (blockers.length > 0) process.exitCode = 1;
        },
        { quiet: opts.json, schema: 'any' },
      );
    });

  const legacy = program
    .command('legacy')
    .description("archive or restore the bot's deprecated PnL columns of trade_records");
  legacy
    .command('archive')
    .description(
      'copy realized_profit, pnl_usd, cost_basis_usd, sale_proceeds_usd, net_sale_proceeds_usd, parent_id ' +
        'into fifo_legacy_pnl_archive, then set them NULL (one transaction; idempotent)',
    )
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      await withDatabase(
        async (db) => {
          const result = await withConnection(db, (client) => operatorErrors(() => archiveLegacy(client)));
          print(opts.json ?? false, result, () => archiveText(result));
          if (result.conflicts > 0 && !opts.json) {
            process.stderr.write(
              `warning: ${result.conflicts} rows were left live: their values differ from the archived ones\n`,
            );
          }
        },
        { quiet: opts.json },
      );
    });
  legacy
    .command('restore')
    .description('put archived legacy values back where the live column is NULL (one transaction)')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      await withDatabase(
        async (db) => {
          const result = await withConnection(db, (client) => operatorErrors(() => restoreLegacy(client)));
          print(opts.json ?? false, result, () => restoreText(result));
        },
        { quiet: opts.json },
      );
    });

  program
    .command('reconcile')
    .description(
      'legacy vs FIFO PnL per sell (live columns, else the archive): table, total, biggest offenders',
    )
    .option('--hours <N>', 'window length in hours, ending now (default 24)')
    .option('--all', 'all time instead of a window')
    .option('--version <N>', 'allocation version (default: FIFO_ALLOCATION_VERSION or 1)')
    .option(
      '--limit <N>',
      'rows of the discrepancy table to print, 0 for all (default 50; --json prints all)',
    )
    .option('--json', 'print one JSON object')
    .action(
      async (opts: { hours?: string; all?: boolean; version?: string; limit?: string; json?: boolean }) => {
        if (opts.all && opts.hours !== undefined) throw new CliError('give --hours or --all, not both');
        const version = resolveVersion(opts.version);
        const hours = opts.all
          ? undefined
          : opts.hours === undefined
            ? 24
            : wholeNumber('--hours', opts.hours, 1);
        const limit = opts.limit === undefined ? 50 : wholeNumber('--limit', opts.limit, 0);
        await withDatabase(
          async (db) => {
            const result = await withConnection(db, (client) =>
              operatorErrors(() => reconcileLegacy(client, { version, hours })),
            );
            print(opts.json ?? false, result, () => reconciliationText(result, limit));
          },
          { quiet: opts.json },
        );
      },
    );

  program
    .command('compare')
    .description('compare two allocation versions per sell and in total (the parallel run)')
    .requiredOption('--versions <A,B>', 'the two versions, e.g. 2,3')
    .option('--limit <N>', 'differing sells to list (default 20)')
    .option('--json', 'print one JSON object')
    .action(async (opts: { versions: string; limit?: string; json?: boolean }) => {
      const [a, b] = parseVersions(opts.versions);
      const limit = opts.limit === undefined ? 20 : wholeNumber('--limit', opts.limit, 0);
      await withDatabase(
        async (db) => {
          const result = await withConnection(db, (client) =>
            operatorErrors(() => compareVersions(client, a, b, { limit })),
          );
          print(opts.json ?? false, result, () => comparisonText(result));
        },
        { quiet: opts.json },
      );
    });

  program
    .command('prune')
    .description(
      'delete the allocations, lots, progress, pending changes and registration of old versions: keeps the ' +
        'active version and the N-1 highest-numbered others',
    )
    .requiredOption('--keep <N>', 'versions to keep, the active one included (>= 1)')
    .option('--active <N>', 'the version in use (default: FIFO_ALLOCATION_VERSION; one of them is required)')
    .option('--dry-run', 'say what would be deleted, delete nothing')
    .option('--json', 'print one JSON object')
    .action(async (opts: { keep: string; active?: string; dryRun?: boolean; json?: boolean }) => {
      const keep = wholeNumber('--keep', opts.keep, 1);
      if (opts.active === undefined && !process.env.FIFO_ALLOCATION_VERSION) {
        throw new CliError(
          'prune needs the active version: pass --active N or set FIFO_ALLOCATION_VERSION (it never guesses the version in use)',
        );
      }
      const active = opts.active === undefined ? resolveVersion() : resolveVersion(opts.active);
      await withDatabase(
        async (db) => {
          const result = await operatorErrors(() => pruneVersions(db, { keep, active, dryRun: opts.dryRun }));
          print(opts.json ?? false, result, () => pruneText(result));
        },
        { quiet: opts.json },
      );
    });
}
