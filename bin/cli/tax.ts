/**
 * `fifo tax-report --year YYYY [--tz ZONE] [--format csv|json] [--out DIR] [--version N]
 *  [--broker-reporting custodial|basis|proceeds|none] [--unmatched flag|zero-basis]
 *  [--broker-csv FILE [--broker-columns FIELD=HEADER,...]]`
 *
 * Form 8949 rows from one version's allocations (shared/tax/). Without --out the rows go to
 * stdout (CSV or JSON) and the totals to stderr; with --out DIR the files are written there and
 * the totals go to stdout. Exits 2 when a sell has no cost basis (flagged MISSING BASIS, left
 * out of the totals), so a script notices; 1 with one line on bad input.
 *
 * The report's code is loaded when the command runs, not at every start of the CLI.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import type { BrokerRow, TaxReport } from '../../shared/tax/index.ts';
import {
  BROKER_REPORTING,
  type BrokerReporting,
  UNMATCHED_MODES,
  type UnmatchedMode,
} from '../../shared/tax/settings.ts';
import { isValidTimeZone } from '../../shared/util/time-zone.ts';
import { withDatabase } from './database.ts';
import { CliError } from './errors.ts';
import { assertVersionExists } from './jobs.ts';
import { cliVersion, DATABASE_ENVIRONMENT, versionOption, withEnvironment } from './options.ts';

const taxModule = () => import('../../shared/tax/index.ts');

export interface TaxCommandOptions {
  year: string;
  tz?: string;
  format?: 'csv' | 'json';
  out?: string;
  version?: string;
  brokerReporting?: BrokerReporting;
  unmatched?: UnmatchedMode;
  brokerCsv?: string;
  brokerColumns?: string[];
}

/** The first Bitcoin block, to the last year whose next January an ISO timestamp still holds. */
export const FIRST_TAX_YEAR = 2009;
export const LAST_TAX_YEAR = 9998;

/** Exit code when a sell has no cost basis (flagged, left out of the totals). */
export const MISSING_BASIS_EXIT_CODE = 2;

export function parseYear(value: string): number {
  const text = value.trim();
  const n = Number(text);
  if (!/^\d{4}$/.test(text) || n < FIRST_TAX_YEAR || n > LAST_TAX_YEAR) {
    throw new CliError(
      `--year must be a tax year from ${FIRST_TAX_YEAR} to ${LAST_TAX_YEAR}, such as 2026, got "${value}"`,
    );
  }
  return n;
}

/** Bad input found by shared/tax (a TaxInputError) becomes the operator's one line. */
async function asCliError<T>(work: () => T): Promise<T> {
  const { TaxInputError } = await taxModule();
  try {
    return work();
  } catch (error) {
    if (error instanceof TaxInputError) throw new CliError(error.message);
    throw error;
  }
}

async function readBrokerRows(
  file: string,
  columns: readonly string[],
  timeZone: string,
): Promise<BrokerRow[]> {
  const { parseBrokerCsv, parseColumnMapping } = await taxModule();
  const mapping = await asCliError(() => parseColumnMapping(columns));
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new CliError(`--broker-csv ${file}: cannot read it (${e.code ?? e.message})`);
  }
  return asCliError(() => parseBrokerCsv(text, { file: `--broker-csv ${file}`, timeZone, columns: mapping }));
}

/** --out must be a directory, or a path where one can be created; checked before any work. */
async function prepareTaxOutDir(dir: string): Promise<void> {
  const found = await stat(dir).catch(() => null);
  if (found && !found.isDirectory()) {
    throw new CliError(`--out ${dir} is a file: --out takes a directory, where form8949-YYYY.csv is written`);
  }
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new CliError(`--out ${dir}: cannot create the directory (${e.code ?? e.message})`);
  }
}

/** The files written to DIR; returns their paths. */
async function writeTaxFiles(report: TaxReport, dir: string, format: 'csv' | 'json'): Promise<string[]> {
  const { renderReconciliationCsv, renderTaxCsv, renderTotalsCsv, taxReportJson } = await taxModule();
  const base = join(dir, `form8949-${report.year}`);
  const files: [string, string][] =
    format === 'json'
      ? [[`${base}.json`, `${JSON.stringify(taxReportJson(report), null, 2)}\n`]]
      : [
          [`${base}.csv`, renderTaxCsv(report)],
          [`${base}-totals.csv`, renderTotalsCsv(report)],
          ...(report.reconciliation
            ? [[`${base}-reconciliation.csv`, renderReconciliationCsv(report)] as [string, string]]
            : []),
        ];
  for (const [path, content] of files) await writeFile(path, content, 'utf8');
  return files.map(([path]) => path);
}

/** Runs the command and returns its exit code (0, or 2 when a basis is missing). */
export async function taxReportCommand(opts: TaxCommandOptions): Promise<number> {
  const tax = await taxModule();
  // Every setting, --out and the broker's file are checked before the database is opened.
  const year = parseYear(opts.year);
  const timeZone = opts.tz ?? 'UTC';
  if (!isValidTimeZone(timeZone)) {
    throw new CliError(
      `--tz must be an IANA time zone such as "UTC" or "America/New_York", got "${timeZone}"`,
    );
  }
  const version = cliVersion(opts.version);
  const format = opts.format ?? 'csv';
  const brokerReporting = opts.brokerReporting ?? 'custodial';
  const unmatched = opts.unmatched ?? 'flag';
  const columns = opts.brokerColumns ?? [];
  if (columns.length > 0 && !opts.brokerCsv) {
    throw new CliError('--broker-columns maps the headers of --broker-csv FILE, which is missing');
  }
  const broker = opts.brokerCsv ? await readBrokerRows(opts.brokerCsv, columns, timeZone) : undefined;
  if (opts.out !== undefined) await prepareTaxOutDir(opts.out);

  const report = await withDatabase(
    async (db) => {
      await assertVersionExists(db, version);
      return tax.readTaxReport(db.pool, { year, timeZone, version, brokerReporting, unmatched, broker });
    },
    { quiet: !opts.out },
  );

  const summary = tax.renderTotalsText(report) + tax.renderReconciliationText(report, opts.brokerCsv ?? '');
  if (opts.out) {
    const paths = await writeTaxFiles(report, opts.out, format);
    process.stdout.write(`${summary}\nwritten: ${paths.join(', ')}\n`);
  } else if (format === 'json') {
    process.stdout.write(`${JSON.stringify(tax.taxReportJson(report))}\n`);
  } else {
    process.stdout.write(tax.renderTaxCsv(report));
    process.stderr.write(summary);
  }

  if (report.rows.length === 0) {
    process.stderr.write(`fifo: no sales dated ${year} in ${timeZone} in version ${version}\n`);
  }
  const missing = report.totals.missingBasis;
  if (missing.rows === 0) return 0;
  const proceeds = tax.formatAmount(missing.proceeds);
  if (unmatched === 'zero-basis') {
    process.stderr.write(
      `warning: ${missing.sells} sells (${missing.rows} slices) have no lot and are reported at a cost basis of 0, ` +
        `short-term: ${proceeds} USD of proceeds counted as gain; find their basis (fifo explain) before ` +
        'filing, or keep the records that support a zero basis\n',
    );
    return 0;
  }
  process.stderr.write(
    `fifo: ${missing.sells} sells (${missing.rows} slices) have no cost basis: flagged MISSING BASIS, ` +
      `left out of the totals (proceeds ${proceeds} USD); run fifo explain on each, ` +
      `or pass --unmatched zero-basis (exit ${MISSING_BASIS_EXIT_CODE})\n`,
  );
  return MISSING_BASIS_EXIT_CODE;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerTaxCommand(program: Command): void {
  withEnvironment(
    program
      .command('tax-report')
      .description(
        'Form 8949 rows (boxes G-L) with holding periods, exact totals per box and term, and a 1099-DA reconciliation',
      )
      .requiredOption('--year <YYYY>', 'the tax year: the sales dated in it in --tz')
      .option('--tz <ZONE>', "the taxpayer's IANA time zone, for every date", 'UTC')
      .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'))
      .option(
        '--out <DIR>',
        'write form8949-YYYY.csv, -totals.csv (and -reconciliation.csv), or .json, to DIR',
      )
      .addOption(versionOption())
      .addOption(
        new Option('--broker-reporting <mode>', 'what the broker reported on Form 1099-DA (see the README)')
          .choices([...BROKER_REPORTING])
          .default('custodial'),
      )
      .addOption(
        new Option(
          '--unmatched <mode>',
          'a sell without a lot: flagged MISSING BASIS, or reported at zero basis',
        )
          .choices([...UNMATCHED_MODES])
          .default('flag'),
      )
      .option('--broker-csv <FILE>', "the broker's Form 1099-DA rows, to reconcile with (changes nothing)")
      .addOption(
        new Option(
          '--broker-columns <FIELD=HEADER,...>',
          'headers of --broker-csv for date_sold, asset, quantity, proceeds, cost_basis (repeatable)',
        )
          .argParser(collect)
          .default([], 'the usual names'),
      )
      .action(async (opts: TaxCommandOptions) => {
        const code = await taxReportCommand(opts);
        if (code !== 0) process.exitCode = code;
      }),
    DATABASE_ENVIRONMENT,
  );
}
