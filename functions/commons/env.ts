/**
 * Whole-number settings from the environment, fail-fast. Powertools' getNumberFromEnv
 * (@aws-lambda-powertools/commons/utils/env) reads, trims and parses the variable, and fails on a
 * value that is not a number. The settings read here are counts, durations and ports: a number
 * below 1 or with a fraction fails here, also in one line naming the variable. String settings
 * use Powertools' getStringFromEnv as it is.
 */
import { getNumberFromEnv } from '@aws-lambda-powertools/commons/utils/env';
import { ConfigError } from '../../shared/jobs/index.ts';

/** A whole number from 1, or `defaultValue` when the variable is unset. */
export function getWholeNumberFromEnv({ key, defaultValue }: { key: string; defaultValue: number }): number {
  if (process.env[key] === undefined) return defaultValue;
  const value = getNumberFromEnv({ key });
  if (Number.isSafeInteger(value) && value >= 1) return value;
  throw new ConfigError(`${key} must be a positive whole number, got "${process.env[key]}"`);
}
