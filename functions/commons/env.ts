/** Configuration from the environment, fail-fast: a missing or malformed value throws at once. */
import { ConfigError } from '../../shared/jobs/index.ts';

/** The value of a required variable; throws when it is unset or empty. */
export function getStringFromEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(`${name} environment variable is not set`);
  return value;
}

/** The value of an optional variable, or undefined when unset or empty. */
export function getOptionalStringFromEnv(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** A positive whole number, or `fallback` when unset; throws on anything else. */
export function getPositiveIntFromEnv(
  name: string,
  fallback: number,
  env: NodeJS.ProcessEnv = process.env,
): number {
  const raw = getOptionalStringFromEnv(name, env);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
    throw new ConfigError(`${name} must be a positive whole number, got "${raw}"`);
  }
  return Number(raw);
}

/** One of `allowed`, or `fallback` when unset; throws on anything else. */
export function getChoiceFromEnv<T extends string>(
  name: string,
  allowed: readonly T[],
  fallback: T,
  env: NodeJS.ProcessEnv = process.env,
): T {
  const raw = getOptionalStringFromEnv(name, env);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

/** A comma-separated list with blanks dropped; empty when unset. */
export function getListFromEnv(name: string, env: NodeJS.ProcessEnv = process.env): string[] {
  return (getOptionalStringFromEnv(name, env) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}
