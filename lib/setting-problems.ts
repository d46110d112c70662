/**
 * How a construct reports settings that cannot work. Each rule is written once, beside the
 * construct that owns the setting, as a function that returns problems instead of throwing:
 * the construct throws them (it can be used without lib/config.ts), and lib/config.ts reports
 * them under the context key, together with every other bad key.
 */

/** One setting that cannot work. */
export interface SettingProblem {
  /** The prop at fault, as the stack's props name it (`database.subnetIds` for a nested one). */
  readonly setting: string;
  /** What it must be, phrased to follow the setting's name: "must be ...". */
  readonly message: string;
}

/** "must be a whole number from min to max, got value", or undefined when it is one. */
export function wholeNumberProblem(value: number, min: number, max: number, why = ''): string | undefined {
  return Number.isInteger(value) && value >= min && value <= max
    ? undefined
    : `must be a whole number from ${min} to ${max}${why}, got ${value}`;
}

/** The problem of `setting`, if `message` says there is one. */
export function problemOf(setting: string, message: string | undefined): SettingProblem[] {
  return message === undefined ? [] : [{ setting, message }];
}

/** Throws the problems as one error, each led by its setting's name. */
export function throwOnProblems(problems: readonly SettingProblem[]): void {
  if (problems.length === 0) return;
  throw new Error(problems.map((p) => `${p.setting} ${p.message}`).join('; '));
}
