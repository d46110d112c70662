/**
 * The daily report: build the model from the database, render HTML, text and CSV, and
 * optionally send them through SES. The CLI (`fifo report`) and the Lambda handler
 * (functions/report/) both call runDailyReport.
 *
 *   runDailyReport(db: Database, options: {
 *     version: number;            // allocation version to report on
 *     hours?: number;             // window length, ending at `now` (default 24)
 *     timeZone?: string;          // IANA zone for day boundaries and times (default 'UTC')
 *     now?: Date;                 // end of the window (default: the current time)
 *     thresholds?: HealthThresholds; // verdict limits (default 15 min lag, 15 min incremental, 26 h full)
 *     settings?: ReportSettings;  // price table, starting equity, fee rates, roundtrip and stale-mark
 *                                 // thresholds (config.ts; default DEFAULT_SETTINGS)
 *     send?: {                    // omit to build and render only
 *       sender: string;           // REPORT_SENDER
 *       recipients: string[];     // REPORT_RECIPIENTS
 *       subjectPrefix?: string;   // REPORT_SUBJECT_PREFIX, default '[fifo-ledger]'
 *       client: SESv2Client;      // createSesClient(), made once per process by the caller
 *     };
 *     logger?: JobLogger;
 *   }): Promise<DailyReport>
 *
 *   DailyReport = { verdict, subject, html, text, csv, csvFileName, files, messageId?,
 *                   allocationsInWindow, realizedPnlWindow, model }
 *
 * `html` and `text` are the email's and name the attachment csvFileName; `files` holds the
 * same bodies as written to a directory, where they name report.csv (REPORT_FILES).
 *
 * A Lambda handler reads its settings with loadReportConfig(process.env, { requireSending: true })
 * and passes { version, hours: c.windowHours, timeZone: c.timeZone, settings: c.settings,
 * send: { sender: c.sender, recipients: c.recipients, subjectPrefix: c.subjectPrefix, client } }. It throws on a database
 * or SES failure; a STALE or WARNING verdict is a result, not an error.
 */
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Database } from '../db/pool.ts';
import { ConfigError, type JobLogger, silentLogger } from '../jobs/context.ts';
import { beingBuiltText, versionBeingBuilt } from '../jobs/health.ts';
import { DEFAULT_SUBJECT_PREFIX, type ReportSettings } from './config.ts';
import { subjectLine } from './copy.ts';
import { buildReportModel, type ReportModel } from './model.ts';
import { csvFileName, renderCsv } from './render-csv.ts';
import { renderHtml } from './render-html.ts';
import { renderText } from './render-text.ts';
import { sendEmail } from './send.ts';
import type { HealthThresholds, Verdict } from './verdict.ts';

export { neutraliseFormula } from '../util/csv-formula.ts';
export { isValidTimeZone } from '../util/time-zone.ts';
export {
  DEFAULT_SETTINGS,
  loadReportConfig,
  parseReportSettings,
  type ReportConfig,
  type ReportSettings,
  SETTING_NAMES,
} from './config.ts';
export { breakEvenMove, metricRules, type Performance } from './metrics.ts';
export { buildReportModel, type ReportModel, type ReportModelOptions } from './model.ts';
export { CSV_COLUMNS, CSV_SECTIONS, csvFileName, renderCsv } from './render-csv.ts';
export { renderHtml } from './render-html.ts';
export { renderText } from './render-text.ts';
export { createSesClient, sendEmail } from './send.ts';
export { DEFAULT_THRESHOLDS, type HealthThresholds, judgeHealth, type Verdict } from './verdict.ts';

export interface ReportSendOptions {
  readonly sender: string;
  readonly recipients: readonly string[];
  /** @default '[fifo-ledger]' */
  readonly subjectPrefix?: string;
  /**
   * The caller's client, made once per process (createSesClient() at module scope in a Lambda
   * handler) so that a warm Lambda reuses it and its connections.
   */
  readonly client: SESv2Client;
}

export interface DailyReportOptions {
  readonly version: number;
  /** @default 24 */
  readonly hours?: number;
  /** @default 'UTC' */
  readonly timeZone?: string;
  /** @default the current time */
  readonly now?: Date;
  readonly thresholds?: HealthThresholds;
  /** @default DEFAULT_SETTINGS */
  readonly settings?: ReportSettings;
  readonly send?: ReportSendOptions;
  /** @default silentLogger */
  readonly logger?: JobLogger;
}

export interface DailyReport {
  readonly verdict: Verdict;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  readonly csv: string;
  readonly csvFileName: string;
  /** The bodies as written to a directory (`fifo report --out`): they name REPORT_FILES.csv. */
  readonly files: { readonly html: string; readonly text: string };
  /** SES MessageId when sent. */
  readonly messageId?: string;
  readonly allocationsInWindow: number;
  /** Exact decimal text: Σ pnl_usd of the window's allocations. */
  readonly realizedPnlWindow: string;
  readonly model: ReportModel;
}

/** The names `fifo report --out` writes. */
export const REPORT_FILES = { html: 'report.html', text: 'report.txt', csv: 'report.csv' } as const;

export async function runDailyReport(db: Database, options: DailyReportOptions): Promise<DailyReport> {
  const logger = options.logger ?? silentLogger;
  const started = Date.now();
  const building = await versionBeingBuilt(db.pool, options.version);
  if (building) throw new ConfigError(beingBuiltText(options.version, building));
  const model = await buildReportModel(db, {
    version: options.version,
    hours: options.hours,
    timeZone: options.timeZone,
    now: options.now,
    thresholds: options.thresholds,
    settings: options.settings,
  });
  const subject = subjectLine(model, options.send?.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX);
  const fileName = csvFileName(model);
  const html = renderHtml(model, { subject, csvFileName: fileName });
  const text = renderText(model, { csvFileName: fileName });
  const csv = renderCsv(model);
  const files = {
    html: renderHtml(model, { subject, csvFileName: REPORT_FILES.csv }),
    text: renderText(model, { csvFileName: REPORT_FILES.csv }),
  };
  const summary = {
    version: model.version,
    verdict: model.health.verdict,
    windowStart: model.window.start,
    windowEnd: model.window.end,
    sells: model.metrics.sells,
    realizedPnlUsd: model.metrics.realizedPnl,
    allocationsInWindow: model.allocationsInWindow,
  };
  logger.info('report built', { ...summary, durationMs: Date.now() - started });

  let messageId: string | undefined;
  if (options.send) {
    messageId = await sendEmail(options.send.client, {
      sender: options.send.sender,
      recipients: options.send.recipients,
      subject,
      html,
      text,
      attachment: { fileName, content: csv, contentType: 'text/csv' },
    });
    logger.info('report sent', { messageId, recipients: options.send.recipients.length, subject });
  }
  return {
    verdict: model.health.verdict,
    subject,
    html,
    text,
    csv,
    csvFileName: fileName,
    files,
    messageId,
    allocationsInWindow: model.allocationsInWindow,
    realizedPnlWindow: model.metrics.realizedPnl,
    model,
  };
}
