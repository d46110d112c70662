/**
 * Daily: build the report (shared/report runDailyReport) and, when a sender and recipients
 * are configured, mail it through SES. Settings come from REPORT_* (shared/report/config.ts),
 * the sections' too (REPORT_PRICE_TABLE, REPORT_STARTING_EQUITY, REPORT_MAKER_FEE, ...).
 */
import { z } from 'zod';
import { loadReportConfig, MAX_WINDOW_HOURS } from '../../shared/report/config.ts';
import { createSesClient, runDailyReport } from '../../shared/report/index.ts';
import { METRICS } from '../commons/constants.ts';
import { withContainerPool } from '../commons/database.ts';
import { jobHandler, scheduledFields } from '../commons/handler.ts';
import { emit } from '../commons/metrics.ts';

/** A schedule's payload; `hours` (manual invocation) overrides the window; `send: false` only logs it. */
export const eventSchema = z.strictObject({
  ...scheduledFields,
  hours: z.number().int().min(1).max(MAX_WINDOW_HOURS).optional(),
  send: z.boolean().optional(),
});

/** Made once per container, reused by every warm invocation (shared/report/send.ts). */
const ses = createSesClient();

export const handler = jobHandler('report', eventSchema, async ({ event, version, logger, metrics }) => {
  emit(metrics, METRICS.reportRuns, 1);
  const config = loadReportConfig(process.env);
  const mail = config.sender !== null && config.recipients.length > 0;
  if (!mail && (config.sender !== null || config.recipients.length > 0)) {
    // Half a configuration is a mistake, not a request to skip the mail.
    loadReportConfig(process.env, { requireSending: true });
  }
  if (!mail) logger.warn('REPORT_SENDER and REPORT_RECIPIENTS are not set: the report is logged, not sent');
  const send =
    mail && event.send !== false
      ? {
          sender: config.sender!,
          recipients: config.recipients,
          subjectPrefix: config.subjectPrefix,
          client: ses,
        }
      : undefined;
  const result = await withContainerPool(logger, (db) =>
    runDailyReport(db, {
      version,
      hours: event.hours ?? config.windowHours,
      timeZone: config.timeZone,
      settings: config.settings,
      send,
      logger,
    }),
  );
  emit(metrics, METRICS.reportsSent, result.messageId ? 1 : 0);
  return { verdict: result.verdict, subject: result.subject, messageId: result.messageId ?? null };
});
