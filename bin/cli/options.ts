/**
 * What every command shares: how option values are checked, how defaults and the environment
 * are written in help, and how amounts are shown. Light on purpose: it is loaded at every
 * start, `fifo --help` included, so it imports nothing heavier than commander.
 */
import { type Command, type Help, Option } from 'commander';
import { CliError } from './errors.ts';

/** The largest allocation version (an int4 column). */
export const MAX_VERSION = 2_147_483_647;

/** A whole number from `min` to `max`, or one line naming the option and what it takes. */
export function wholeNumber(name: string, value: string, min: number, max = MAX_VERSION): number {
  const text = value.trim();
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new CliError(
      `${name} must be a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}, ` +
        `got "${value}"`,
    );
  }
  return Number(text);
}

/**
 * The allocation version: --version, else FIFO_ALLOCATION_VERSION, else 1. An empty value is an
 * error wherever it comes from: `--version ''` or `FIFO_ALLOCATION_VERSION=` never means 1.
 */
export function cliVersion(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): number {
  if (explicit !== undefined) {
    if (explicit.trim() === '') throw new CliError('--version is empty: give a version, e.g. --version 1');
    return wholeNumber('--version', explicit, 1);
  }
  const fromEnv = env.FIFO_ALLOCATION_VERSION;
  if (fromEnv === undefined) return 1;
  if (fromEnv.trim() === '') {
    throw new CliError('FIFO_ALLOCATION_VERSION is set but empty: unset it (version 1) or set a version');
  }
  return wholeNumber('FIFO_ALLOCATION_VERSION', fromEnv, 1);
}

/** An option whose default is described, not given: `(default: TEXT)` in help, like every other. */
export function optionWithDefault(flags: string, description: string, defaultText: string): Option {
  return new Option(flags, description).default(undefined, defaultText);
}

export const versionOption = () =>
  optionWithDefault('--version <N>', 'allocation version', '$FIFO_ALLOCATION_VERSION, else 1');

export const jsonOption = () =>
  new Option('--json', 'print one JSON object (snake_case keys, exact amounts)');

export const exactOption = () =>
  new Option('--exact', 'show amounts exactly as stored (8 decimal places) instead of rounded to 2');

/** Defaults and choices written one way in every help text: `(choices: a, b; default: x)`. */
export const helpConfiguration: Partial<Help> = {
  optionDescription(option: Option): string {
    const extra: string[] = [];
    if (option.argChoices) extra.push(`choices: ${option.argChoices.join(', ')}`);
    const shown =
      option.defaultValueDescription ??
      (option.defaultValue !== undefined && !option.isBoolean() ? String(option.defaultValue) : undefined);
    if (shown) extra.push(`default: ${shown}`);
    return extra.length > 0 ? `${option.description} (${extra.join('; ')})` : option.description;
  },
};

const ENVIRONMENT = {
  DATABASE_URL:
    'the PostgreSQL to use, postgres://USER:PASSWORD@HOST:PORT/DATABASE (default: none: an embedded ' +
    'PostgreSQL kept in $FIFO_EMBEDDED_DIR)',
  FIFO_EMBEDDED_DIR:
    'where the embedded PostgreSQL keeps its data, without DATABASE_URL (default: .fifo-data)',
  FIFO_ALLOCATION_VERSION: 'the allocation version when --version is not given (default: 1)',
  FIFO_DEBUG: '1 adds the stack trace to an error (default: unset)',
  REPORT_TIMEZONE: 'IANA zone of the report days (default: UTC)',
  REPORT_WINDOW_HOURS: 'the report window in hours (default: 24)',
  REPORT_SENDER: 'the sender address, for --send (default: none)',
  REPORT_RECIPIENTS: 'comma-separated recipients, for --send (default: none)',
  REPORT_SUBJECT_PREFIX: 'the subject prefix (default: [fifo-ledger])',
} as const;

export type EnvironmentName = keyof typeof ENVIRONMENT;

export const DATABASE_ENVIRONMENT: EnvironmentName[] = [
  'DATABASE_URL',
  'FIFO_EMBEDDED_DIR',
  'FIFO_ALLOCATION_VERSION',
  'FIFO_DEBUG',
];

/** An "Environment:" section after the command's help, naming every variable it reads. */
export function withEnvironment(command: Command, names: readonly EnvironmentName[]): Command {
  const width = Math.max(...names.map((n) => n.length));
  const lines = names.map((n) => `  ${n.padEnd(width)}  ${ENVIRONMENT[n]}`);
  return command.addHelpText('after', `\nEnvironment:\n${lines.join('\n')}\n`);
}

/** Every variable any command reads: the program's own help. */
export const ALL_ENVIRONMENT = Object.keys(ENVIRONMENT) as EnvironmentName[];

const groupThousands = (digits: string): string => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/**
 * A USD amount for text output: exact text as stored with --exact, else rounded half away from
 * zero to 2 decimal places with thousands separators, as the daily report shows it. JSON
 * always carries the exact text.
 */
export function usdText(value: string, exact = false): string {
  if (exact) return value;
  const match = /^(-?)(\d+)(?:\.(\d*))?$/.exec(value.trim());
  if (!match) return value;
  const [, sign, whole, fraction = ''] = match;
  let cents = BigInt(whole! + fraction.padEnd(2, '0').slice(0, 2));
  if (fraction.length > 2 && fraction.charCodeAt(2) >= 53) cents += 1n;
  const digits = cents.toString().padStart(3, '0');
  const shown = `${groupThousands(digits.slice(0, -2))}.${digits.slice(-2)}`;
  return sign && cents !== 0n ? `-${shown}` : shown;
}

/** "1 row", "2 rows". */
export const plural = (n: number | string, word: string, many = `${word}s`) =>
  `${n} ${Number(n) === 1 ? word : many}`;

const snake = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

/**
 * A result object with every camelCase key in snake_case, deeply: the JSON contract of every
 * command. Keys that are data (column names such as `pnl_usd`) are snake_case already and stay.
 */
export function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [snake(k), snakeKeys(v)]));
}
