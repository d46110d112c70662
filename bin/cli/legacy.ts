/**
 * Adopting the bot's database and retiring its legacy PnL columns (docs/migration.md):
 *
 *   fifo adopt check [--json]                            what migrate would do; changes nothing
 *                                                        (`fifo adopt` and `fifo adopt --check` too)
 *   fifo legacy archive [--json]                         legacy PnL columns -> archive, then NULL
 *   fifo legacy restore [--json]                         archived values back where NULL
 *   fifo reconcile [--hours N | --all] [--version N] [--limit N] [--exact] [--json]
 *   fifo compare --versions A,B [--limit N] [--exact] [--json]
 *   fifo prune --keep N [--active N] [--dry-run] [--json]
 */
import { type Command, Option } from 'commander';
import type { AdoptionCheck } from '../../shared/legacy/adopt-check.ts';
import { withDatabase } from './database.ts';
import { CliError } from './errors.ts';
import { assertVersionExists } from './jobs.ts';
import {
  cliVersion,
  DATABASE_ENVIRONMENT,
  exactOption,
  jsonOption,
  optionWithDefault,
  snakeKeys,
  versionOption,
  wholeNumber,
  withEnvironment,
} from './options.ts';

// Loaded when a command runs, not at every start (bin/build.mjs).
const legacyModule = () => import('../../shared/legacy/index.ts');
const poolModule = () => import('../../shared/db/pool.ts');

/** JSON with snake_case keys, like every command's; else the text. */
const print = (json: boolean, value: object, text: () => string) =>
  process.stdout.write(json ? `${JSON.stringify(snakeKeys(value))}\n` : text());

/** The operator's errors (refusals, bad input) without a stack; anything else as is. */
async function operatorErrors<T>(work: () => Promise<T>): Promise<T> {
  const { LegacyError, VersionError } = await legacyModule();
  try {
    return await work();
  } catch (error) {
    if (error instanceof LegacyError || error instanceof VersionError || error instanceof RangeError) {
      throw new CliError(error.message);
    }
    throw error;
  }
}

function parseVersions(value: string): [number, number] {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.length !== 2) throw new CliError(`--versions takes two versions, e.g. 2,3; got "${value}"`);
  const [a, b] = parts.map((p) => wholeNumber('--versions', p, 1)) as [number, number];
  if (a === b) throw new CliError(`--versions must name two different versions, got "${value}"`);
  return [a, b];
}

export function registerLegacyCommands(program: Command): void {
  withEnvironment(
    program
      .command('adopt')
      .description(
        'show what "fifo migrate" would do to this database (read-only); exits 1 on a blocker. ' +
          '"fifo adopt", "fifo adopt check" and the older "fifo adopt --check" are the same',
      )
      .argument('[check]', 'the check (the only action: adopting itself is "fifo migrate")')
      .addOption(new Option('--check', 'the same as "adopt check" (the older spelling)').hideHelp())
      .addOption(jsonOption())
      .action(async (action: string | undefined, opts: { json?: boolean }) => {
        if (action !== undefined && action !== 'check') {
          throw new CliError(
            `adopt takes "check" or nothing, got "${action}" (adopting itself is fifo migrate)`,
          );
        }
        await withDatabase(
          async (db) => {
            const [{ checkAdoption }, { adoptionJson, adoptionReport, blockersOf }, { withConnection }] =
              await Promise.all([
                legacyModule(),
                import('../../shared/legacy/adopt-check-output.ts'),
                poolModule(),
              ]);
            let check: AdoptionCheck;
            try {
              check = await withConnection(db, checkAdoption);
            } catch (error) {
              // Whatever the shape, the check itself never ends in a stack trace.
              throw new CliError(`adopt check could not read ${db.description}: ${(error as Error).message}`);
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
      }),
    DATABASE_ENVIRONMENT.filter((n) => n !== 'FIFO_ALLOCATION_VERSION'),
  );

  const legacy = program
    .command('legacy')
    .description("archive or restore the bot's deprecated PnL columns of trade_records");
  withEnvironment(
    legacy
      .command('archive')
      .description(
        'copy realized_profit, pnl_usd, cost_basis_usd, sale_proceeds_usd, net_sale_proceeds_usd, parent_id ' +
          'into fifo_legacy_pnl_archive, then set them NULL (one transaction; idempotent)',
      )
      .addOption(jsonOption())
      .action(async (opts: { json?: boolean }) => {
        await withDatabase(
          async (db) => {
            const [{ archiveLegacy, archiveText }, { withConnection }] = await Promise.all([
              legacyModule(),
              poolModule(),
            ]);
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
      }),
    DATABASE_ENVIRONMENT.filter((n) => n !== 'FIFO_ALLOCATION_VERSION'),
  );
  withEnvironment(
    legacy
      .command('restore')
      .description('put archived legacy values back where the live column is NULL (one transaction)')
      .addOption(jsonOption())
      .action(async (opts: { json?: boolean }) => {
        await withDatabase(
          async (db) => {
            const [{ restoreLegacy, restoreText }, { withConnection }] = await Promise.all([
              legacyModule(),
              poolModule(),
            ]);
            const result = await withConnection(db, (client) => operatorErrors(() => restoreLegacy(client)));
            print(opts.json ?? false, result, () => restoreText(result));
          },
          { quiet: opts.json },
        );
      }),
    DATABASE_ENVIRONMENT.filter((n) => n !== 'FIFO_ALLOCATION_VERSION'),
  );

  withEnvironment(
    program
      .command('reconcile')
      .description(
        'legacy vs FIFO PnL per sell (live columns, else the archive): table, total, biggest offenders',
      )
      .addOption(optionWithDefault('--hours <N>', 'window length in hours, ending now', '24'))
      .option('--all', 'all time instead of a window')
      .addOption(versionOption())
      .addOption(
        optionWithDefault(
          '--limit <N>',
          'rows of the discrepancy table to print, 0 for all (--json prints all)',
          '50',
        ),
      )
      .addOption(exactOption())
      .addOption(jsonOption())
      .action(
        async (opts: {
          hours?: string;
          all?: boolean;
          version?: string;
          limit?: string;
          exact?: boolean;
          json?: boolean;
        }) => {
          if (opts.all && opts.hours !== undefined) throw new CliError('give --hours or --all, not both');
          const version = cliVersion(opts.version);
          const hours = opts.all
            ? undefined
            : opts.hours === undefined
              ? 24
              : wholeNumber('--hours', opts.hours, 1);
          const limit = opts.limit === undefined ? 50 : wholeNumber('--limit', opts.limit, 0);
          await withDatabase(
            async (db) => {
              const [{ reconcileLegacy, reconciliationText }, { withConnection }] = await Promise.all([
                legacyModule(),
                poolModule(),
              ]);
              const result = await withConnection(db, (client) =>
                operatorErrors(() => reconcileLegacy(client, { version, hours })),
              );
              print(opts.json ?? false, result, () => reconciliationText(result, limit, opts.exact ?? false));
            },
            { quiet: opts.json },
          );
        },
      ),
    DATABASE_ENVIRONMENT,
  );

  withEnvironment(
    program
      .command('compare')
      .description('compare two allocation versions per sell and in total (the parallel run)')
      .requiredOption('--versions <A,B>', 'the two versions, e.g. 2,3')
      .addOption(optionWithDefault('--limit <N>', 'differing sells to list', '20'))
      .addOption(exactOption())
      .addOption(jsonOption())
      .action(async (opts: { versions: string; limit?: string; exact?: boolean; json?: boolean }) => {
        const [a, b] = parseVersions(opts.versions);
        const limit = opts.limit === undefined ? 20 : wholeNumber('--limit', opts.limit, 0);
        await withDatabase(
          async (db) => {
            // A version never built compares as empty: refuse it rather than report a difference.
            await assertVersionExists(db, a);
            await assertVersionExists(db, b);
            const [{ compareVersions, comparisonText }, { withConnection }] = await Promise.all([
              legacyModule(),
              poolModule(),
            ]);
            const result = await withConnection(db, (client) =>
              operatorErrors(() => compareVersions(client, a, b, { limit })),
            );
            print(opts.json ?? false, result, () => comparisonText(result, opts.exact ?? false));
          },
          { quiet: opts.json },
        );
      }),
    DATABASE_ENVIRONMENT.filter((n) => n !== 'FIFO_ALLOCATION_VERSION'),
  );

  withEnvironment(
    program
      .command('prune')
      .description(
        'delete the allocations, lots, progress, pending changes and registration of old versions: keeps the ' +
          'active version and the N-1 highest-numbered others',
      )
      .requiredOption('--keep <N>', 'versions to keep, the active one included (>= 1)')
      .addOption(
        optionWithDefault(
          '--active <N>',
          'the version in use (this or FIFO_ALLOCATION_VERSION is required)',
          '$FIFO_ALLOCATION_VERSION',
        ),
      )
      .option('--dry-run', 'say what would be deleted, delete nothing')
      .addOption(jsonOption())
      .action(async (opts: { keep: string; active?: string; dryRun?: boolean; json?: boolean }) => {
        const keep = wholeNumber('--keep', opts.keep, 1);
        if (opts.active === undefined && !process.env.FIFO_ALLOCATION_VERSION) {
          throw new CliError(
            'prune needs the active version: pass --active N or set FIFO_ALLOCATION_VERSION (it never guesses the version in use)',
          );
        }
        const active =
          opts.active === undefined ? cliVersion(undefined) : wholeNumber('--active', opts.active, 1);
        await withDatabase(
          async (db) => {
            const { pruneVersions, pruneText } = await legacyModule();
            const result = await operatorErrors(() =>
              pruneVersions(db, { keep, active, dryRun: opts.dryRun }),
            );
            print(opts.json ?? false, result, () => pruneText(result));
          },
          { quiet: opts.json },
        );
      }),
    DATABASE_ENVIRONMENT,
  );
}
