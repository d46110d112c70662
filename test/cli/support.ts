/**
 * The CLI as the operator runs it (a child process), and the checks its output contract takes:
 * a JSON Schema subset validator for bin/cli/schemas/*.schema.json, and snake_case keys.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `node bin/fifo.js ...args` with `env` over a copy of this process's environment from which
 * DATABASE_URL, FIFO_ALLOCATION_VERSION and REPORT_* are removed; the exit code is data.
 */
export function fifo(
  args: string[],
  env: Record<string, string | undefined> = {},
  entry = ['bin/fifo.js'],
): Promise<CliRun> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => k !== 'DATABASE_URL' && k !== 'FIFO_ALLOCATION_VERSION' && !k.startsWith('REPORT_'),
    ),
  );
  const merged = Object.fromEntries(
    Object.entries({ ...base, ...env }).filter((e): e is [string, string] => e[1] !== undefined),
  );
  return new Promise((done) => {
    execFile(
      'node',
      [...entry, ...args],
      { cwd: repo, timeout: 120_000, env: merged, maxBuffer: 1 << 26 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** The one-line error contract: exit 1, one line on stderr starting "fifo: ", no stack, no stdout. */
export function oneLineError(run: CliRun): string {
  if (run.code !== 1) throw new Error(`expected exit 1, got ${run.code}: ${run.stderr}${run.stdout}`);
  const lines = run.stderr.split('\n').filter((l) => l !== '');
  if (lines.length !== 1 || !lines[0]!.startsWith('fifo: ')) {
    throw new Error(`expected one "fifo: " line on stderr, got:\n${run.stderr}`);
  }
  return lines[0]!;
}

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  enum?: unknown[];
  pattern?: string;
  $ref?: string;
  $defs?: Record<string, Schema>;
  oneOf?: Schema[];
};

const typeOf = (v: unknown) =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;

/** The schema of a command's JSON output, bin/cli/schemas/NAME.schema.json. */
export function loadSchema(name: string): Schema {
  return JSON.parse(readFileSync(join(repo, 'bin/cli/schemas', `${name}.schema.json`), 'utf8')) as Schema;
}

/**
 * Every way `value` breaks `schema` (a subset of JSON Schema 2020-12: type, properties,
 * required, additionalProperties, items, enum, pattern, $ref to #/$defs, oneOf); empty if none.
 */
export function schemaErrors(schema: Schema, value: unknown, root: Schema = schema, path = '$'): string[] {
  if (schema.$ref) {
    const name = schema.$ref.replace('#/$defs/', '');
    const target = root.$defs?.[name];
    if (!target) return [`${path}: unknown $ref ${schema.$ref}`];
    return schemaErrors(target, value, root, path);
  }
  if (schema.oneOf) {
    const passing = schema.oneOf.filter((s) => schemaErrors(s, value, root, path).length === 0);
    return passing.length === 1 ? [] : [`${path}: matches ${passing.length} of oneOf, not 1`];
  }
  const errors: string[] = [];
  if (schema.type) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    const actual = typeOf(value);
    const ok = types.some((t) => t === actual || (t === 'number' && actual === 'integer'));
    if (!ok) return [`${path}: is ${actual}, not ${types.join(' or ')}`];
  }
  if (schema.enum && !schema.enum.some((e) => e === value))
    errors.push(`${path}: ${JSON.stringify(value)} not in enum`);
  if (schema.pattern && typeof value === 'string' && !new RegExp(schema.pattern).test(value)) {
    errors.push(`${path}: "${value}" does not match ${schema.pattern}`);
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const object = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in object)) errors.push(`${path}: lacks ${key}`);
    for (const [key, v] of Object.entries(object)) {
      const property = schema.properties?.[key];
      if (property) errors.push(...schemaErrors(property, v, root, `${path}.${key}`));
      else if (schema.additionalProperties === false) errors.push(`${path}: unexpected key ${key}`);
      else if (typeof schema.additionalProperties === 'object') {
        errors.push(...schemaErrors(schema.additionalProperties, v, root, `${path}.${key}`));
      }
    }
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((v, i) => {
      errors.push(...schemaErrors(schema.items!, v, root, `${path}[${i}]`));
    });
  }
  return errors;
}

/** Every key of a JSON value that is not snake_case (data keys such as symbols excepted by `allow`). */
export function nonSnakeKeys(
  value: unknown,
  allow: (path: string) => boolean = () => false,
  path = '$',
): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => nonSnakeKeys(v, allow, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [
    ...(/^[a-z0-9_]+$/.test(k) || allow(`${path}.${k}`) ? [] : [`${path}.${k}`]),
    ...nonSnakeKeys(v, allow, `${path}.${k}`),
  ]);
}
