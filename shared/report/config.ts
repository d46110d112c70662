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
 * The sections' settings (ReportSettings; the CLI has an option for each):
 *
 *   REPORT_PRICE_TABLE         a table or view with (symbol, price, as_of) that gives the marks of
 *                              the open positions, e.g. "public.report_prices" (the bot's name
 *                              for it); default none: each symbol is marked at its last fill
 *   REPORT_STARTING_EQUITY     USD, used when cash_transactions is missing or unusable; default
 *                              none (drawdown % and invested % then say what they need)
 *   REPORT_MAKER_FEE           maker fee rate, "0.3%" or "0.003"; default 0.3%
 *   REPORT_TAKER_FEE           taker fee rate; default 0.55%
 *   REPORT_ROUNDTRIP_SECONDS   a lot slice held this long or less is a near-instant roundtrip;
 *                              default 60
 *   REPORT_STALE_MARK_MINUTES  a mark older than this is flagged as stale; default 60
 *
 * Every error names the variable (or option) at fault. The SES endpoint is not set here: the
 * AWS SDK reads AWS_ENDPOINT_URL_SESV2 / AWS_ENDPOINT_URL itself.
 */
import { Decimal } from 'decimal.js';
import { z } from 'zod';
import { ConfigError } from '../jobs/context.ts';
import { isPlainAddress, isSenderAddress, SENDER_ADDRESS_RULE } from '../util/sender-address.ts';
import { isValidTimeZone, TIME_ZONE_RULE } from '../util/time-zone.ts';

export const DEFAULT_SUBJECT_PREFIX = '[fifo-ledger]';
export const DEFAULT_TIME_ZONE = 'UTC';
export const DEFAULT_WINDOW_HOURS = 24;
/** A window longer than a year is a typo, not a daily report. */
export const MAX_WINDOW_HOURS = 24 * 366;

/** The settings of the report's sections. Rates and amounts are exact decimal text. */
export interface ReportSettings {
  /** Table or view with (symbol, price, as_of); null: marks are last fills. */
  readonly priceTable: string | null;
  /** USD, when cash_transactions cannot give it; null: unknown. */
  readonly startingEquity: string | null;
  /** Fractions: 0.003 is 0.3%. */
  readonly makerFeeRate: string;
  readonly takerFeeRate: string;
  readonly roundtripSeconds: number;
  readonly staleMarkMinutes: number;
}

export const DEFAULT_SETTINGS: ReportSettings = {
  priceTable: null,
  startingEquity: null,
  makerFeeRate: '0.003',
  takerFeeRate: '0.0055',
  roundtripSeconds: 60,
  staleMarkMinutes: 60,
};

export interface ReportConfig {
  readonly sender: string | null;
  readonly recipients: string[];
  readonly subjectPrefix: string;
  readonly timeZone: string;
  readonly windowHours: number;
  readonly settings: ReportSettings;
}

/** The environment variable and CLI option of each setting. */
export const SETTING_NAMES: Record<keyof ReportSettings, { readonly env: string; readonly option: string }> =
  {
    priceTable: { env: 'REPORT_PRICE_TABLE', option: '--price-table' },
    startingEquity: { env: 'REPORT_STARTING_EQUITY', option: '--starting-equity' },
    makerFeeRate: { env: 'REPORT_MAKER_FEE', option: '--maker-fee' },
    takerFeeRate: { env: 'REPORT_TAKER_FEE', option: '--taker-fee' },
    roundtripSeconds: { env: 'REPORT_ROUNDTRIP_SECONDS', option: '--roundtrip-seconds' },
    staleMarkMinutes: { env: 'REPORT_STALE_MARK_MINUTES', option: '--stale-mark-minutes' },
  };

/** A table name as SQL writes it without quotes: `name` or `schema.name`. */
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)?$/;
const DECIMAL = /^\d{1,15}(?:\.\d{1,8})?$/;

/** "0.3%" or "0.003" to the fraction "0.003"; null when it is neither, or 50% or more. */
export function parseRate(text: string): string | null {
  const percent = text.endsWith('%');
  const body = percent ? text.slice(0, -1).trim() : text;
  if (!/^\d{1,3}(?:\.\d{1,10})?$/.test(body)) return null;
  // Decimal division by 100 of at most 13 digits is exact.
  const rate = new Decimal(body).div(percent ? 100 : 1);
  return rate.lt('0.5') ? rate.toFixed() : null;
}

const wholeNumber = (min: number, max: number) => (v: string) => {
  const n = Number(v);
  return /^\d+$/.test(v) && n >= min && n <= max ? n : null;
};

/** Each setting's parser: the value, or null with the message that says what it must be. */
const SETTING_PARSERS: {
  [K in keyof ReportSettings]: { parse: (text: string) => ReportSettings[K] | null; must: string };
} = {
  priceTable: {
    parse: (v) => (TABLE_NAME.test(v) ? v : null),
    must: 'must be a table or view name such as "report_prices" or "public.report_prices"',
  },
  startingEquity: {
    parse: (v) => (DECIMAL.test(v) ? v.replace(/^0+(?=\d)/, '') : null),
    must: 'must be an amount in USD such as "10000" or "2500.50"',
  },
  makerFeeRate: { parse: parseRate, must: 'must be a fee rate such as "0.3%" or "0.003", under 50%' },
  takerFeeRate: { parse: parseRate, must: 'must be a fee rate such as "0.55%" or "0.0055", under 50%' },
  roundtripSeconds: {
    parse: wholeNumber(0, 86_400),
    must: 'must be a whole number of seconds from 0 to 86400',
  },
  staleMarkMinutes: {
    parse: wholeNumber(1, 525_600),
    must: 'must be a whole number of minutes from 1 to 525600',
  },
};

/**
 * The section settings from `values` (raw text, blank = unset) over `base`; each problem is
 * named by `label(key)`: the variable, or the CLI option.
 * @throws ConfigError naming every value at fault
 */
export function parseReportSettings(
  values: Partial<Record<keyof ReportSettings, string | undefined>>,
  label: (key: keyof ReportSettings) => string,
  base: ReportSettings = DEFAULT_SETTINGS,
): ReportSettings {
  const problems: string[] = [];
  const result: Record<string, unknown> = { ...base };
  for (const key of Object.keys(SETTING_PARSERS) as (keyof ReportSettings)[]) {
    const raw = values[key]?.trim();
    if (raw === undefined || raw === '') continue;
    const parsed = SETTING_PARSERS[key].parse(raw);
    if (parsed === null) problems.push(`${label(key)}: ${SETTING_PARSERS[key].must}, got "${raw}"`);
    else result[key] = parsed;
  }
  if (problems.length > 0) throw new ConfigError(`report settings: ${problems.join('; ')}`);
  return result as unknown as ReportSettings;
}

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const schema = z.object({
  REPORT_SENDER: optionalText.refine((v) => v === undefined || isSenderAddress(v), {
    message: SENDER_ADDRESS_RULE,
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
        if (!isPlainAddress(address)) {
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
    .refine(isValidTimeZone, { message: TIME_ZONE_RULE }),
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
  const settingValues = Object.fromEntries(
    (Object.keys(SETTING_NAMES) as (keyof ReportSettings)[]).map((k) => [k, env[SETTING_NAMES[k].env]]),
  );
  let settings: ReportSettings = DEFAULT_SETTINGS;
  let settingsProblem = '';
  try {
    settings = parseReportSettings(settingValues, (k) => SETTING_NAMES[k].env);
  } catch (error) {
    settingsProblem = (error as Error).message.replace(/^report settings: /, '');
  }
  if (!parsed.success || settingsProblem) {
    const all = [parsed.success ? '' : describeIssues(parsed.error), settingsProblem].filter(Boolean);
    throw new ConfigError(`report settings: ${all.join('; ')}`);
  }
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
    settings,
  };
}
