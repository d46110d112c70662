/** What every job takes: the version, who triggered it, where to log, engine settings. */
import type { EngineOptions } from '../fifo/index.ts';

/** Structured logging; the CLI prints to stderr, the Lambdas pass Powertools' Logger. */
export interface JobLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export const silentLogger: JobLogger = { info() {}, warn() {}, error() {} };

export interface JobOptions {
  /** The allocation version to build. */
  readonly version: number;
  /** Recorded in the log: 'cli', 'schedule', a scheduled time... @default 'cli' */
  readonly triggeredBy?: string;
  /** @default silentLogger */
  readonly logger?: JobLogger;
  /** Unmatched sells and dust thresholds. @default one unmatched row, no dust */
  readonly engine?: EngineOptions;
  /** Called now and then on long work with the number of trades read so far. */
  readonly onProgress?: (tradesRead: number) => void;
  /**
   * Write a version that holds allocation rows fifo-ledger did not write (the bot's version 2),
   * replacing them. Without it such a run fails and changes nothing (shared/jobs/ownership.ts).
   * @default false
   */
  readonly takeOverVersion?: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The allocation version: an explicit value, else FIFO_ALLOCATION_VERSION, else 1. */
export function resolveVersion(explicit?: string | number, env: NodeJS.ProcessEnv = process.env): number {
  const [source, raw] =
    explicit !== undefined
      ? ['--version', String(explicit)]
      : ['FIFO_ALLOCATION_VERSION', env.FIFO_ALLOCATION_VERSION];
  if (raw === undefined || raw === '') return 1;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1 || Number(raw) > 2_147_483_647) {
    throw new ConfigError(`${source} must be a positive whole number, got "${raw}"`);
  }
  return Number(raw);
}

/** How many rejected trades a run names in its log before it only counts them. */
export const REJECTIONS_LOGGED = 20;
