/**
 * The report's settings from the environment, the names the bot's own report already uses:
 *
 *   REPORT_SENDER          the From address ("ops@example.com" or "FIFO <ops@example.com>");
 *                          needed only to send
 *   REPORT_RECIPIENTS      comma-separated To addresses; needed only to send
 *   REPORT_SUBJECT_PREFIX  default "[fifo-ledger]"
 *   REPORT_TIMEZONE        IANA zone for day boundaries and displayed times, default UTC
 *   REPORT_WINDOW_HOURS    the window that ends now, default 24
 *
 * Every error names the variable at fault. The SES endpoint is not set here: the AWS SDK
 * reads AWS_ENDPOINT_URL_SESV2 / AWS_ENDPOINT_URL itself.
 */
import { z } from 'zod';
import { ConfigError } from '../jobs/context.ts';

export const DEFAULT_SUBJECT_PREFIX = '[fifo-ledger]';
export const DEFAULT_TIME_ZONE = 'UTC';
export const DEFAULT_WINDOW_HOURS = 24;
/** A window longer than a year is a typo, not a daily report. */
export const MAX_WINDOW_HOURS = 24 * 366;

export interface ReportConfig {
  readonly sender: string | null;
  readonly recipients: string[];
  readonly subjectPrefix: string;
  readonly timeZone: string;
  readonly windowHours: number;
}

const ADDRESS = /^[^\s@<>,]+@[^\s@<>,]+\.[^\s@<>,]+$/;
/** "addr@host" or "Display Name <addr@host>". */
const SENDER = /^(?:[^<>]*<[^\s@<>,]+@[^\s@<>,]+\.[^\s@<>,]+>|[^\s@<>,]+@[^\s@<>,]+\.[^\s@<>,]+)$/;

/** True when Intl (the same tz database the renderers use) knows the IANA zone. */
export function isValidTimeZone(zone: string): boolean {
  if (!zone.trim()) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const schema = z.object({
  REPORT_SENDER: optionalText.refine((v) => v === undefined || SENDER.test(v), {
    message: 'must be an email address, e.g. "reports@example.com" or "FIFO <reports@example.com>"',
  }),
  REPORT_RECIPIENTS: optionalText
    .transform((v) =>
      (v ?? '')
        .split(',')
        .map((a) => a.trim())
        .filter((a) => a !== ''),
    )
    .superRefine((list, ctx) => {
      for (const address of list) {
        if (!ADDRESS.test(address)) {
          ctx.addIssue({ code: 'custom', message: `"${address}" is not an email address` });
        }
      }
    }),
  REPORT_SUBJECT_PREFIX: z
    .string()
    .optional()
    .transform((v) => (v === undefined ? DEFAULT_SUBJECT_PREFIX : v.trim()))
    // SES subjects are 7-bit ASCII unless encoded; keep the prefix plain.
    .refine((v) => /^[\x20-\x7e]*$/.test(v), { message: 'must be printable ASCII' }),
  REPORT_TIMEZONE: optionalText
    .transform((v) => v ?? DEFAULT_TIME_ZONE)
    .refine(isValidTimeZone, { message: 'must be an IANA time zone such as "UTC" or "Europe/Berlin"' }),
  REPORT_WINDOW_HOURS: optionalText
    .transform((v) => (v === undefined ? DEFAULT_WINDOW_HOURS : Number(v)))
    .refine((n) => Number.isInteger(n) && n >= 1 && n <= MAX_WINDOW_HOURS, {
      message: `must be a whole number of hours from 1 to ${MAX_WINDOW_HOURS}`,
    }),
});

/** One line per problem, each starting with the variable's name. */
function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`).join('; ');
}

/**
 * Reads and validates the report settings. With `requireSending`, REPORT_SENDER and
 * REPORT_RECIPIENTS must be set (the CLI's --send, the Lambda handler).
 * @throws ConfigError naming every variable at fault
 */
export function loadReportConfig(
  env: NodeJS.ProcessEnv = process.env,
  options: { requireSending?: boolean } = {},
): ReportConfig {
  const parsed = schema.safeParse({
    REPORT_SENDER: env.REPORT_SENDER,
    REPORT_RECIPIENTS: env.REPORT_RECIPIENTS,
    REPORT_SUBJECT_PREFIX: env.REPORT_SUBJECT_PREFIX,
    REPORT_TIMEZONE: env.REPORT_TIMEZONE,
    REPORT_WINDOW_HOURS: env.REPORT_WINDOW_HOURS,
  });
  if (!parsed.success) throw new ConfigError(`report settings: ${describeIssues(parsed.error)}`);
  const c = parsed.data;
  if (options.requireSending) {
    const missing = [
      c.REPORT_SENDER === undefined ? 'REPORT_SENDER' : null,
      c.REPORT_RECIPIENTS.length === 0 ? 'REPORT_RECIPIENTS' : null,
    ].filter((m): m is string => m !== null);
    if (missing.length > 0) {
      throw new ConfigError(
        `sending the report needs ${missing.join(' and ')} (sender address; comma-separated recipients)`,
      );
    }
  }
  return {
    sender: c.REPORT_SENDER ?? null,
    recipients: c.REPORT_RECIPIENTS,
    subjectPrefix: c.REPORT_SUBJECT_PREFIX,
    timeZone: c.REPORT_TIMEZONE,
    windowHours: c.REPORT_WINDOW_HOURS,
  };
}
