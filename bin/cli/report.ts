/**
 * `fifo report [--version N] [--hours N] [--tz ZONE] [--out DIR] [--send]`: the daily report
 * against DATABASE_URL (or the embedded database). Without --out it prints the text report;
 * --out writes report.html, report.txt and report.csv; --send mails it through SES with
 * REPORT_SENDER and REPORT_RECIPIENTS. Defaults come from REPORT_TIMEZONE and
 * REPORT_WINDOW_HOURS.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { type JobLogger, resolveVersion } from '../../shared/jobs/index.ts';
import { MAX_WINDOW_HOURS } from '../../shared/report/config.ts';
import {
  type DailyReport,
  isValidTimeZone,
  loadReportConfig,
  runDailyReport,
} from '../../shared/report/index.ts';
import { withDatabase } from './database.ts';
import { CliError } from './errors.ts';
import { stderrLogger } from './jobs.ts';

export interface ReportCommandOptions {
  version?: string;
  hours?: string;
  tz?: string;
  out?: string;
  send?: boolean;
}

/** The three files of a report in `dir`; returns their paths. */
export async function writeReportFiles(report: DailyReport, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: [string, string][] = [
    [join(dir, 'report.html'), report.html],
    [join(dir, 'report.txt'), report.text],
    [join(dir, 'report.csv'), report.csv],
  ];
  for (const [path, content] of files) await writeFile(path, content, 'utf8');
  return files.map(([path]) => path);
}

function parseHours(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > MAX_WINDOW_HOURS) {
    throw new CliError(`--hours must be a whole number from 1 to ${MAX_WINDOW_HOURS}, got "${value}"`);
  }
  return n;
}

export async function reportCommand(
  opts: ReportCommandOptions,
  logger: JobLogger = stderrLogger,
): Promise<void> {
  // Every setting is checked before the database is opened.
  const version = resolveVersion(opts.version);
  const config = loadReportConfig(process.env, { requireSending: opts.send ?? false });
  if (opts.tz !== undefined && !isValidTimeZone(opts.tz)) {
    throw new CliError(
      `--tz must be an IANA time zone such as "UTC" or "America/New_York", got "${opts.tz}"`,
    );
  }
  const hours = opts.hours === undefined ? config.windowHours : parseHours(opts.hours);
  const timeZone = opts.tz ?? config.timeZone;

  await withDatabase(
    async (db) => {
      let report: DailyReport;
      try {
        report = await runDailyReport(db, {
          version,
          hours,
          timeZone,
          logger,
          send: opts.send
            ? { sender: config.sender!, recipients: config.recipients, subjectPrefix: config.subjectPrefix }
            : undefined,
        });
      } catch (error) {
        throw new CliError(`report failed: ${(error as Error).message}`);
      }
      if (opts.out) {
        const paths = await writeReportFiles(report, opts.out);
        process.stdout.write(`${report.verdict}: report written to ${paths.join(', ')}\n`);
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
  program
    .command('report')
    .description(
      'the daily report: realized PnL, win rate, per symbol, 30-day chart, open positions, unmatched sells, health',
    )
    .option('--version <N>', 'allocation version (default: FIFO_ALLOCATION_VERSION or 1)')
    .option('--hours <N>', 'window length in hours, ending now (default: REPORT_WINDOW_HOURS or 24)')
    .option('--tz <ZONE>', 'IANA time zone for days and times (default: REPORT_TIMEZONE or UTC)')
    .option('--out <DIR>', 'write report.html, report.txt and report.csv to DIR')
    .option('--send', 'email it through SES (needs REPORT_SENDER and REPORT_RECIPIENTS)')
    .action(async (opts: ReportCommandOptions) => {
      await reportCommand(opts);
    });
}
