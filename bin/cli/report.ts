/**
 * `fifo report [--version N] [--hours N] [--tz ZONE] [--out DIR] [--send] [section settings]`:
 * the daily report against DATABASE_URL (or the embedded database). Without --out it prints the
 * text report; --out writes report.html, report.txt and report.csv; --send mails it through SES
 * with REPORT_SENDER and REPORT_RECIPIENTS. Defaults come from REPORT_TIMEZONE and
 * REPORT_WINDOW_HOURS; the section settings (--price-table, --starting-equity, --maker-fee,
 * --taker-fee, --roundtrip-seconds, --stale-mark-minutes) override their REPORT_* variables
 * (shared/report/config.ts).
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Command } from 'commander';
import type { JobLogger } from '../../shared/jobs/index.ts';
import type { DailyReport } from '../../shared/report/index.ts';
import { withDatabase } from './database.ts';
import { CliError } from './errors.ts';
import { stderrLogger } from './jobs.ts';
import {
  cliVersion,
  DATABASE_ENVIRONMENT,
  optionWithDefault,
  versionOption,
  withEnvironment,
} from './options.ts';

export interface ReportCommandOptions {
  version?: string;
  hours?: string;
  tz?: string;
  out?: string;
  send?: boolean;
  priceTable?: string;
  startingEquity?: string;
  makerFee?: string;
  takerFee?: string;
  roundtripSeconds?: string;
  staleMarkMinutes?: string;
}

/** The section settings' options: flag, what it sets, its variable and default (config.ts). */
const SETTING_OPTIONS = [
  [
    '--price-table <TABLE>',
    'table or view with (symbol, price, as_of) for the marks',
    'REPORT_PRICE_TABLE',
    'none: last fill',
  ],
  [
    '--starting-equity <USD>',
    'starting equity when cash_transactions cannot give it',
    'REPORT_STARTING_EQUITY',
    'none',
  ],
  [
    '--maker-fee <RATE>',
    'maker fee rate for the break-even move, "0.3%" or "0.003"',
    'REPORT_MAKER_FEE',
    '0.3%',
  ],
  ['--taker-fee <RATE>', 'taker fee rate for the break-even move', 'REPORT_TAKER_FEE', '0.55%'],
  [
    '--roundtrip-seconds <N>',
    'a slice held this long or less is a near-instant roundtrip',
    'REPORT_ROUNDTRIP_SECONDS',
    '60',
  ],
  ['--stale-mark-minutes <N>', 'a mark older than this is flagged', 'REPORT_STALE_MARK_MINUTES', '60'],
] as const;

/** The three files of a report in `dir` (which exists: see prepareOutDir); returns their paths. */
export async function writeReportFiles(report: DailyReport, dir: string): Promise<string[]> {
  await prepareOutDir(dir);
  const files: [string, string][] = [
    // The files name report.csv, the email its attachment: each says what sits beside it.
    [join(dir, 'report.html'), report.files.html],
    [join(dir, 'report.txt'), report.files.text],
    [join(dir, 'report.csv'), report.csv],
  ];
  for (const [path, content] of files) await writeFile(path, content, 'utf8');
  return files.map(([path]) => path);
}

/**
 * The SES client, made once per process by the first --send (shared/report/send.ts): on first
 * use rather than at import, so that every other command starts without the AWS SDK
 * (bin/build.mjs).
 */
let ses: SESv2Client | undefined;
const sesClient = (create: () => SESv2Client): SESv2Client => {
  ses ??= create();
  return ses;
};

const code = (error: unknown) => (error as { code?: string }).code;

/**
 * Makes sure --out names a directory, creating it (and its missing parents) one level at a
 * time: a file there is refused, and a place where nothing can be created is one line, before
 * any work is done. (A recursive mkdir under /proc never returns on some kernels.)
 */
export async function prepareOutDir(dir: string): Promise<void> {
  const missing: string[] = [];
  let at = resolve(dir);
  for (;;) {
    try {
      const found = await stat(at);
      if (!found.isDirectory()) {
        throw new CliError(
          at === resolve(dir)
            ? `--out ${dir} is a file: --out takes a directory, where report.html, report.txt and report.csv are written`
            : `--out ${dir}: ${at} is a file, not a directory`,
        );
      }
      break;
    } catch (error) {
      if (error instanceof CliError) throw error;
      if (code(error) !== 'ENOENT' || dirname(at) === at) {
        throw new CliError(`--out ${dir}: cannot use ${at} (${code(error) ?? (error as Error).message})`);
      }
      missing.unshift(at);
      at = dirname(at);
    }
  }
  for (const path of missing) {
    try {
      await mkdir(path);
    } catch (error) {
      if (code(error) === 'EEXIST') continue;
      throw new CliError(
        `--out ${dir}: cannot create the directory ${path} (${code(error) ?? (error as Error).message})`,
      );
    }
  }
}

function parseHours(value: string, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > max) {
    throw new CliError(`--hours must be a whole number from 1 to ${max}, got "${value}"`);
  }
  return n;
}

export async function reportCommand(
  opts: ReportCommandOptions,
  logger: JobLogger = stderrLogger,
): Promise<void> {
  // The SDK warns on every send that it will stop supporting Node.js 20 one day: a note for the
  // SDK's maintainers, not for the operator reading the report's result.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const {
    createSesClient,
    isValidTimeZone,
    loadReportConfig,
    parseReportSettings,
    runDailyReport,
    SETTING_NAMES,
  } = await import('../../shared/report/index.ts');
  const { MAX_WINDOW_HOURS } = await import('../../shared/report/config.ts');
  // Every setting is checked before the database is opened, and --out is made ready.
  const version = cliVersion(opts.version);
  const config = loadReportConfig(process.env, { requireSending: opts.send ?? false });
  if (opts.tz !== undefined && !isValidTimeZone(opts.tz)) {
    throw new CliError(
      `--tz must be an IANA time zone such as "UTC" or "America/New_York", got "${opts.tz}"`,
    );
  }
  const hours = opts.hours === undefined ? config.windowHours : parseHours(opts.hours, MAX_WINDOW_HOURS);
  const timeZone = opts.tz ?? config.timeZone;
  let settings: typeof config.settings;
  try {
    settings = parseReportSettings(
      {
        priceTable: opts.priceTable,
        startingEquity: opts.startingEquity,
        makerFeeRate: opts.makerFee,
        takerFeeRate: opts.takerFee,
        roundtripSeconds: opts.roundtripSeconds,
        staleMarkMinutes: opts.staleMarkMinutes,
      },
      (key) => SETTING_NAMES[key].option,
      config.settings,
    );
  } catch (error) {
    throw new CliError((error as Error).message.replace(/^report settings: /, ''));
  }
  if (opts.out !== undefined) await prepareOutDir(opts.out);

  await withDatabase(
    async (db) => {
      let report: DailyReport;
      try {
        report = await runDailyReport(db, {
          version,
          hours,
          timeZone,
          settings,
          logger,
          send: opts.send
            ? {
                sender: config.sender!,
                recipients: config.recipients,
                subjectPrefix: config.subjectPrefix,
                client: sesClient(createSesClient),
              }
            : undefined,
        });
      } catch (error) {
        throw new CliError(`report failed: ${(error as Error).message}`);
      }
      if (opts.out) {
        const paths = await writeReportFiles(report, opts.out);
        process.stdout.write(`report written to ${paths.join(', ')} (verdict ${report.verdict})\n`);
      } else if (!opts.send) {
        process.stdout.write(report.text);
      }
      if (report.messageId) {
        process.stdout.write(
          `sent "${report.subject}" to ${config.recipients.join(', ')} (SES message id ${report.messageId})\n`,
        );
      }
    },
    { quiet: !opts.out && !opts.send },
  );
}

export function registerReportCommand(program: Command): void {
  const command = program
    .command('report')
    .description(
      'the daily report: realized and unrealized PnL, win rate, expectancy, charts, strategies, sources, ' +
        'risk and capital, costs, holding times, roundtrips, open positions, unmatched sells, health',
    )
    .addOption(versionOption())
    .addOption(
      optionWithDefault('--hours <N>', 'window length in hours, ending now', '$REPORT_WINDOW_HOURS, else 24'),
    )
    .addOption(
      optionWithDefault('--tz <ZONE>', 'IANA time zone for days and times', '$REPORT_TIMEZONE, else UTC'),
    )
    .option('--out <DIR>', 'write report.html, report.txt and report.csv to DIR (created if missing)')
    .option('--send', 'email it through SES (needs REPORT_SENDER and REPORT_RECIPIENTS)');
  for (const [flags, description, variable, fallback] of SETTING_OPTIONS) {
    command.addOption(optionWithDefault(flags, description, `$${variable}, else ${fallback}`));
  }
  command.action(async (opts: ReportCommandOptions) => {
    await reportCommand(opts);
  });
  withEnvironment(command, [
    ...DATABASE_ENVIRONMENT,
    'REPORT_TIMEZONE',
    'REPORT_WINDOW_HOURS',
    'REPORT_SENDER',
    'REPORT_RECIPIENTS',
    'REPORT_SUBJECT_PREFIX',
  ]);
  const width = Math.max(...SETTING_OPTIONS.map(([, , variable]) => variable.length));
  const settingsHelp = SETTING_OPTIONS.map(
    ([flags, , variable, fallback]) =>
      `  ${variable.padEnd(width)}  as ${flags.split(' ')[0]} (default: ${fallback})`,
  );
  command.addHelpText(
    'after',
    `Report settings, read from the environment too:\n${settingsHelp.join('\n')}\n`,
  );
}
