/**
 * The columns of one table against what fifo-ledger needs of them (./expected-schema.ts):
 * missing and unknown columns, types, nullability and defaults, each judged against what the
 * writers in shared/db/ put there. Pure: the live shape comes from ./adopt-check-catalog.ts.
 */
import { PER_UNIT_SCALE, QTY_SCALE, USD_SCALE } from '../fifo/index.ts';
import type { LiveColumn, LiveTable } from './adopt-check-catalog.ts';
import { type Finding, type MigrationState, where } from './adopt-check-findings.ts';
import type { ExpectedColumn, ExpectedTable, ValueKind } from './expected-schema.ts';

/** What `adopt --check` has long reported per table; derived from the findings' inputs. */
export interface TableColumns {
  readonly table: string;
  readonly exists: boolean;
  /** Missing columns `migrate` adds. */
  readonly addedByMigrate: string[];
  /** Missing columns fifo-ledger needs and `migrate` does not add: blockers. */
  readonly missingRequired: string[];
  /** Missing columns nothing needs (the bot's optional or deprecated ones). */
  readonly missingOptional: string[];
  readonly deprecatedPresent: string[];
  readonly deprecatedAbsent: string[];
  /** Columns that are not fifo-ledger's (the bot's own additions). */
  readonly unknown: string[];
}

/** The types that work for each kind of value, as the report names them. */
export const NEEDED_TYPE: Readonly<Record<ValueKind, string>> = {
  usd: `numeric (unconstrained, or a scale of at least ${USD_SCALE})`,
  quantity: `numeric (unconstrained, or a scale of at least ${QTY_SCALE})`,
  'per-unit': `numeric (unconstrained, or a scale of at least ${PER_UNIT_SCALE})`,
  time: 'timestamp with time zone',
  text: 'character varying or text',
  integer: 'integer (or smallint, bigint)',
  count: 'a number type (integer, bigint, numeric)',
  uuid: 'uuid (or character varying, text)',
  boolean: 'boolean',
  jsonb: 'jsonb',
  symbols:
    'character varying[] or text[] (the list of symbols), a number type (their count) or character varying or text (a comma list)',
  'trade-number': 'double precision or numeric',
  mirror: 'double precision or numeric',
  float8: 'double precision',
};

const DECIMAL_SCALE: Partial<Record<ValueKind, number>> = {
  usd: USD_SCALE,
  quantity: QTY_SCALE,
  'per-unit': PER_UNIT_SCALE,
};

const INTEGERS = new Set(['int2', 'int4', 'int8']);
const FLOATS = new Set(['float4', 'float8']);

export interface TypeVerdict {
  readonly verdict: 'ok' | 'warning' | 'blocker';
  /** Why, in a few words; for ok, what fifo-ledger does with the type. */
  readonly reason: string;
}

const ok = (reason = "fifo-ledger's values fit"): TypeVerdict => ({ verdict: 'ok', reason });
const blocker = (reason: string): TypeVerdict => ({ verdict: 'blocker', reason });
const warning = (reason: string): TypeVerdict => ({ verdict: 'warning', reason });

/** numeric(p,s) from its type modifier; null when unconstrained. */
function numericModifier(typmod: number): { precision: number; scale: number } | null {
  if (typmod < 4) return null;
  const m = typmod - 4;
  let scale = m & 0x7ff;
  if (scale & 0x400) scale -= 0x800; // PostgreSQL 15 allows a negative scale
  return { precision: (m >> 16) & 0xffff, scale };
}

/** character varying(n): n, or null when unconstrained. */
const lengthLimit = (c: LiveColumn): number | null =>
  (c.base === 'varchar' || c.base === 'bpchar') && c.typmod >= 4 ? c.typmod - 4 : null;

const isString = (c: LiveColumn) => c.category === 'S';
const isNumber = (c: LiveColumn) => c.category === 'N' && c.base !== 'money' && c.base !== 'oid';

function judgeString(c: LiveColumn, written: boolean): TypeVerdict {
  if (!isString(c)) return blocker(`fifo-ledger ${written ? 'writes' : 'reads'} strings there`);
  if (c.base === 'bpchar') {
    return blocker('character(n) pads values with spaces, so they no longer equal the values they copy');
  }
  const limit = lengthLimit(c);
  if (written && limit !== null) {
    return warning(`it refuses values longer than ${limit} characters, and the run that writes one fails`);
  }
  return ok();
}

/** Whether the live type can take (or give) the values fifo-ledger writes (or reads) there. */
export function judgeType(kind: ValueKind, c: LiveColumn, written: boolean): TypeVerdict {
  const scale = DECIMAL_SCALE[kind];
  if (scale !== undefined) {
    if (c.base !== 'numeric') {
      if (INTEGERS.has(c.base))
        return blocker('it holds no fractions, and fifo-ledger writes exact decimals');
      if (FLOATS.has(c.base)) {
        return blocker(
          'a float rounds exact decimals, and fifo-ledger reads them back with trim_scale(numeric)',
        );
      }
      return blocker('fifo-ledger writes exact decimals');
    }
    const modifier = numericModifier(c.typmod);
    if (modifier && modifier.scale < scale) {
      return blocker(
        `it rounds to ${modifier.scale} decimal places where fifo-ledger stores up to ${scale}: stored rows would differ from computed ones and every full rebuild would report drift`,
      );
    }
    if (modifier) {
      return warning(`it refuses values of 10^${modifier.precision - modifier.scale} or more`);
    }
    return ok();
  }
  switch (kind) {
    case 'time':
      if (c.base === 'timestamptz') return ok();
      if (c.base === 'timestamp') {
        return blocker(
          "without a time zone it shifts instants by the session's TimeZone, and fifo-ledger writes and compares UTC instants",
        );
      }
      if (c.base === 'date') return blocker('a date drops the time of day, which FIFO order depends on');
      return blocker('fifo-ledger writes and compares instants');
    case 'text':
      return judgeString(c, written);
    case 'integer':
      return INTEGERS.has(c.base) ? ok() : blocker('fifo-ledger writes and compares whole numbers');
    case 'count':
      return isNumber(c) ? ok() : blocker('fifo-ledger writes counts');
    case 'uuid': {
      if (c.base === 'uuid') return ok();
      const limit = lengthLimit(c);
      if (isString(c) && c.base !== 'bpchar' && (limit === null || limit >= 36)) return ok();
      return blocker('fifo-ledger writes a uuid per run');
    }
    case 'boolean':
      return c.base === 'bool' ? ok() : blocker('fifo-ledger writes true or false');
    case 'jsonb':
      return c.base === 'jsonb' ? ok() : blocker('fifo-ledger merges run details into it with jsonb ||');
    case 'symbols':
      if (c.category === 'A') {
        return c.elementCategory === 'S' && c.element !== '_bpchar' && c.element !== 'bpchar'
          ? ok('fifo-ledger writes the list of symbols')
          : blocker(
              'fifo-ledger writes the list of symbols into an array, and this array does not hold strings',
            );
      }
      if (isNumber(c)) return ok('fifo-ledger writes the number of symbols');
      if (isString(c) && c.base !== 'bpchar') {
        const limit = lengthLimit(c);
        return limit === null
          ? ok('fifo-ledger writes the symbols as a comma list')
          : warning(
              `fifo-ledger writes the symbols as a comma list, and it refuses more than ${limit} characters`,
            );
      }
      return blocker('fifo-ledger writes NULL there: a run would log no symbols');
    case 'trade-number':
      if (c.base === 'money')
        return blocker("money's text carries a currency sign, which fifo_trade_source cannot read");
      return isNumber(c) ? ok() : blocker('fifo_trade_source reads it as a number');
    case 'mirror':
      if (FLOATS.has(c.base) || c.base === 'numeric') return ok();
      if (INTEGERS.has(c.base)) return blocker("it rounds each buy's open size (0.5 becomes 0 or 1)");
      return blocker("fifo-ledger writes each buy's open size as double precision");
    case 'float8':
      return c.base === 'float8' ? ok() : blocker('the archive keeps legacy float8 values bit for bit');
  }
  return ok();
}

const hasDefault = (c: LiveColumn) => c.defaultSql !== null || c.identity !== '' || c.generated !== '';
const describeType = (c: LiveColumn) => (c.domain ? `${c.type} (a domain over ${c.base})` : c.type);

function compareType(
  table: ExpectedTable,
  expected: ExpectedColumn,
  live: LiveColumn,
  findings: Finding[],
): void {
  if (!expected.value) return;
  const written = table.inserts || expected.value === 'mirror';
  const verdict = judgeType(expected.value, live, written);
  const at = where(table.name, live.name);
  const base = { table: table.name, column: live.name, object: null, code: 'type' } as const;
  if (verdict.verdict === 'blocker') {
    findings.push({
      ...base,
      severity: 'blocker',
      message: `${at} is ${describeType(live)}: ${verdict.reason}; needed: ${NEEDED_TYPE[expected.value]}. migrate never changes a column's type: alter it`,
    });
  } else if (verdict.verdict === 'warning') {
    findings.push({
      ...base,
      severity: 'warning',
      message: `${at} is ${describeType(live)}: ${verdict.reason}; ${NEEDED_TYPE[expected.value]} has no such limit`,
    });
  } else if (live.type !== expected.type) {
    findings.push({
      ...base,
      severity: 'fine',
      message: `${at} is ${describeType(live)}, not ${expected.type} as migrate creates it: ${verdict.reason}`,
      group: 'types other than those migrate creates, that work',
      item: `${live.name} ${describeType(live)} (${verdict.reason})`,
    });
  }
}

function compareNullability(
  table: ExpectedTable,
  expected: ExpectedColumn,
  live: LiveColumn,
  findings: Finding[],
): void {
  if (!table.inserts || !expected.insert) return;
  const at = where(table.name, live.name);
  const base = { table: table.name, column: live.name, object: null } as const;
  if (expected.insert !== 'omitted' && (live.generated !== '' || live.identity === 'a')) {
    findings.push({
      ...base,
      severity: 'blocker',
      code: 'generated',
      message: `${at} is GENERATED ALWAYS, and fifo-ledger writes it: make it a plain column`,
    });
    return;
  }
  if (expected.insert === 'always' && live.notNull && !hasDefault(live)) {
    findings.push({
      ...base,
      severity: 'fine',
      code: 'not-null',
      message: `${at} is NOT NULL without a default: fifo-ledger sets it on every row it writes`,
      group: 'NOT NULL without a default, set on every row fifo-ledger writes',
    });
  } else if (expected.insert === 'maybe-null' && live.notNull) {
    findings.push({
      ...base,
      severity: 'blocker',
      code: 'not-null',
      message: `${at} is NOT NULL, and fifo-ledger writes NULL there ${expected.nullWhen ?? 'on some rows'}: drop NOT NULL (ALTER TABLE ${table.name} ALTER COLUMN ${live.name} DROP NOT NULL)`,
    });
  } else if (expected.insert === 'omitted' && live.notNull && !hasDefault(live)) {
    findings.push({
      ...base,
      severity: 'blocker',
      code: 'not-null',
      message: `${at} is NOT NULL without a default, and fifo-ledger's rows leave it out: give it a default or drop NOT NULL`,
    });
    return;
  }
  const needs = expected.needsDefault;
  if (!needs) return;
  const has =
    needs.sql === 'sequence'
      ? live.identity !== '' || /\bnextval\(/i.test(live.defaultSql ?? '')
      : live.defaultSql?.trim().toLowerCase() === needs.sql;
  if (!has) {
    const wanted = needs.sql === 'sequence' ? 'a sequence (serial or identity)' : needs.sql;
    findings.push({
      ...base,
      severity: 'blocker',
      code: 'default',
      message: `${at} defaults to ${live.defaultSql ?? 'nothing'}, and it must default to ${wanted}: ${needs.why}; set it (ALTER TABLE ${table.name} ALTER COLUMN ${live.name} SET DEFAULT ...)`,
    });
  }
}

function compareMissing(
  table: ExpectedTable,
  expected: ExpectedColumn,
  migrations: MigrationState,
  findings: Finding[],
  summary: TableColumns,
): void {
  const at = where(table.name, expected.name);
  const base = { table: table.name, column: expected.name, object: null, code: 'missing-column' } as const;
  const migration = expected.migration ?? table.migration;
  if (expected.addedIfMissing && migrations.isPending(migration)) {
    summary.addedByMigrate.push(expected.name);
    findings.push({
      ...base,
      severity: 'adapts',
      message: `${at} is missing: migrate (${migration}) adds it as ${expected.type}`,
      group: `missing, added by migrate (${migration})`,
      item: `${expected.name} ${expected.type}`,
    });
  } else if (expected.addedIfMissing && expected.required) {
    summary.missingRequired.push(expected.name);
    findings.push({
      ...base,
      severity: 'blocker',
      message: `${at} is missing although ${migration} is applied, and migrate will not add it again: add it (ALTER TABLE ${table.name} ADD COLUMN ${expected.name} ${expected.type})`,
    });
  } else if (expected.required) {
    summary.missingRequired.push(expected.name);
    findings.push({
      ...base,
      severity: 'blocker',
      message: `${at} (${expected.type}) is missing and migrate does not add it: fifo-ledger ${
        table.inserts ? 'writes' : 'reads'
      } it; add it, or rename the column that holds it${
        table.name === 'trade_records'
          ? ' (or redefine the view fifo_trade_source over your column names)'
          : ''
      }`,
    });
  } else if (expected.deprecated) {
    summary.deprecatedAbsent.push(expected.name);
    findings.push({
      ...base,
      severity: 'fine',
      message: `${at} is absent: it is deprecated and nothing needs it`,
      group: 'deprecated, absent (nothing needs them)',
    });
  } else {
    summary.missingOptional.push(expected.name);
    findings.push({
      ...base,
      severity: 'fine',
      message: `${at} is absent: fifo-ledger does not use it`,
      group: 'absent, not used by fifo-ledger',
    });
  }
}

function compareUnknown(table: ExpectedTable, live: LiveColumn, findings: Finding[]): void {
  const at = where(table.name, live.name);
  const base = { table: table.name, column: live.name, object: null, code: 'unknown-column' } as const;
  if (table.inserts && live.notNull && !hasDefault(live)) {
    findings.push({
      ...base,
      severity: 'blocker',
      message: `${at} (${live.type}) is NOT NULL without a default and is not a column fifo-ledger writes: its inserts would fail; give it a default or drop NOT NULL`,
    });
    return;
  }
  findings.push({
    ...base,
    severity: 'fine',
    message: table.inserts
      ? `${at} (${live.type}) is not fifo-ledger's: its rows leave it ${live.defaultSql ? `to its default (${live.defaultSql})` : 'NULL'}`
      : `${at} (${live.type}) is not fifo-ledger's: it never reads it`,
    group: table.inserts ? "not fifo-ledger's, left to their defaults" : "not fifo-ledger's, not read",
    item: `${live.name} ${live.type}`,
  });
}

/** The columns of an existing table against the expected ones. */
export function compareColumns(
  table: ExpectedTable,
  live: LiveTable,
  migrations: MigrationState,
): { findings: Finding[]; summary: TableColumns } {
  const findings: Finding[] = [];
  const summary: TableColumns = {
    table: table.name,
    exists: live.kind !== null,
    addedByMigrate: [],
    missingRequired: [],
    missingOptional: [],
    deprecatedPresent: [],
    deprecatedAbsent: [],
    unknown: [],
  };
  if (live.kind === null) return { findings, summary };
  const expectedNames = new Set(table.columns.map((c) => c.name));
  for (const expected of table.columns) {
    const column = live.columns.get(expected.name);
    if (!column) {
      compareMissing(table, expected, migrations, findings, summary);
      continue;
    }
    if (expected.deprecated) summary.deprecatedPresent.push(expected.name);
    compareType(table, expected, column, findings);
    compareNullability(table, expected, column, findings);
  }
  for (const column of live.columns.values()) {
    if (expectedNames.has(column.name)) continue;
    summary.unknown.push(column.name);
    compareUnknown(table, column, findings);
  }
  return { findings, summary };
}
