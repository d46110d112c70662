/**
 * CHECK constraints, unique keys and foreign keys of one table against the rows fifo-ledger
 * writes there (./expected-schema.ts says what those rows hold). A check fifo-ledger can prove
 * its rows satisfy is fine, one it can prove they break blocks, one it cannot read is worth a
 * look; a check a pending migration drops is adapted to. Pure: the shape comes from
 * ./adopt-check-catalog.ts.
 */
import type { LiveCheck, LiveForeignKey, LiveIndex, LiveTable } from './adopt-check-catalog.ts';
import { type Finding, type MigrationState, where } from './adopt-check-findings.ts';
import {
  DROPPED_CHECKS,
  EXPECTED_INDEXES,
  type ExpectedIndex,
  type ExpectedTable,
} from './expected-schema.ts';

/** Casts as pg_get_constraintdef() prints them, e.g. `::numeric`, `::character varying[]`. */
const CAST =
  /::(?:double precision|character varying|timestamp with(?:out)? time zone|time with(?:out)? time zone|bit varying|[a-z_][a-z0-9_]*)(?:\(\d+(?:,\s*\d+)?\))?(?:\[\])?/gi;

/**
 * A CHECK definition in a comparable form: no `CHECK`, no casts, no parentheses, single
 * spaces, lower case outside string literals. `CHECK (((cost_basis_usd IS NULL) OR
 * (cost_basis_usd >= (0)::numeric)))` becomes `cost_basis_usd is null or cost_basis_usd >= 0`.
 */
export function normalizeCheck(definition: string): string {
  const body = definition
    .replace(/^\s*CHECK\s*/i, '')
    .replace(/\s+NOT VALID\s*$/i, '')
    .replace(/\s+NO INHERIT\s*$/i, '');
  return body
    .split(/('(?:[^']|'')*')/)
    .map((part, i) =>
      i % 2 === 1
        ? part
        : part
            .replace(CAST, '')
            .replace(/[()]/g, ' ')
            .replace(/"([^"]+)"/g, '$1')
            .toLowerCase(),
    )
    .join('')
    .replace(/\s+/g, ' ')
    .replace(/\[ /g, '[')
    .replace(/ \]/g, ']')
    .replace(/ ,/g, ',')
    .trim();
}

interface CheckVerdict {
  readonly verdict: 'fine' | 'blocker' | 'unknown';
  /** The column the verdict is about, when the check names one fifo-ledger knows. */
  readonly column: string | null;
  /** For a blocker: what fifo-ledger writes that the check refuses. */
  readonly reason?: string;
}

const literals = (list: string) =>
  [...list.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1]!.replace(/''/g, "'"));

/** `col > 0`, `col >= 0`, `0 < col`, `col IS NULL OR col >= 0` (normalized): the column and `>`. */
function signCheck(n: string): { column: string; strict: boolean } | null {
  const m = n.match(/^(\w+) (>|>=) 0$/) ?? n.match(/^(\w+) is null or \1 (>|>=) 0$/);
  if (m) return { column: m[1]!, strict: m[2] === '>' };
  const reversed = n.match(/^0 (<|<=) (\w+)$/) ?? n.match(/^(\w+) is null or 0 (<|<=) \1$/);
  if (!reversed) return null;
  const [column, op] = n.startsWith('0 ') ? [reversed[2]!, reversed[1]!] : [reversed[1]!, reversed[2]!];
  return { column, strict: op === '<' };
}

/** Whether every row fifo-ledger writes satisfies the check (NULL satisfies any CHECK). */
export function judgeCheck(table: ExpectedTable, definition: string): CheckVerdict {
  const n = normalizeCheck(definition);
  if (table.safeChecks?.includes(n)) return { verdict: 'fine', column: null };
  const spec = (name: string | undefined) => table.columns.find((c) => c.name === name);

  const sign = signCheck(n);
  if (sign) {
    const { column, strict } = sign;
    const s = spec(column)?.sign;
    if (!s) return { verdict: 'unknown', column: spec(column) ? column : null };
    if (s.min === 'positive' || (s.min === 'nonnegative' && !strict)) return { verdict: 'fine', column };
    return {
      verdict: 'blocker',
      column,
      reason: `${column} is ${s.when ?? (s.min === 'nonnegative' ? '0 at times' : 'negative at times')}`,
    };
  }

  const list = n.match(/^(\w+) = any array\[(.*)\]$/) ?? n.match(/^(\w+) = ('(?:[^']|'')*')$/);
  if (list) {
    const column = list[1]!;
    const written = spec(column)?.values;
    if (!written) return { verdict: 'unknown', column: spec(column) ? column : null };
    const allowed = new Set(literals(list[2]!));
    const refused = written.filter((v) => !allowed.has(v));
    if (refused.length === 0) return { verdict: 'fine', column };
    return {
      verdict: 'blocker',
      column,
      reason: `fifo-ledger writes ${refused.map((v) => `'${v}'`).join(', ')}`,
    };
  }
  return { verdict: 'unknown', column: null };
}

/** The CHECK constraints of a table fifo-ledger writes. */
export function compareChecks(
  table: ExpectedTable,
  checks: readonly LiveCheck[],
  migrations: MigrationState,
): Finding[] {
  const findings: Finding[] = [];
  // On trade_records fifo-ledger writes remaining_size only: other checks never see its writes.
  const written = new Set(
    table.columns.filter((c) => table.inserts || c.value === 'mirror').map((c) => c.name),
  );
  for (const check of checks) {
    if (check.table !== table.name) continue;
    if (!table.inserts && !check.columns.some((c) => written.has(c))) continue;
    const base = { table: table.name, object: check.name, code: 'check' } as const;
    const named = `${check.definition} (${check.name})`;
    const dropped = DROPPED_CHECKS.find((d) => d.table === table.name && d.matches(check.definition));
    if (dropped && migrations.isPending(dropped.migration)) {
      findings.push({
        ...base,
        column: check.columns.length === 1 ? check.columns[0]! : null,
        severity: 'adapts',
        message: `${table.name}: ${named}: migrate (${dropped.migration}) ${dropped.detail}`,
      });
      continue;
    }
    const judged = judgeCheck(table, check.definition);
    const at = where(table.name, judged.column);
    if (judged.verdict === 'fine') {
      findings.push({
        ...base,
        column: judged.column,
        severity: 'fine',
        message: `${table.name}: ${named} holds for every row fifo-ledger writes`,
        group: 'checks every row fifo-ledger writes satisfies',
        item: check.name,
      });
    } else if (judged.verdict === 'blocker') {
      findings.push({
        ...base,
        column: judged.column,
        severity: 'blocker',
        message: `${at}: ${named} refuses rows fifo-ledger writes (${judged.reason}), and migrate does not drop it${
          dropped ? ` (${dropped.migration}, which drops it, is already applied)` : ''
        }: drop it (ALTER TABLE ${table.name} DROP CONSTRAINT ${check.name})`,
      });
    } else {
      findings.push({
        ...base,
        column: judged.column,
        severity: 'warning',
        message: `${at}: ${named} is not a check fifo-ledger knows: the first row it writes that breaks it stops the run; make sure it holds for ${
          table.inserts ? 'its rows' : 'the values it writes'
        }, or drop it`,
      });
    }
  }
  return findings;
}

/** The live columns an index key element names (a column, or the columns of an expression). */
function keyColumns(keys: readonly string[], live: LiveTable): Set<string> {
  const out = new Set<string>();
  for (const key of keys) {
    const outsideLiterals = key.replace(/'(?:[^']|'')*'/g, '');
    for (const m of outsideLiterals.matchAll(/"([^"]+)"|([a-z_][a-z0-9_$]*)/gi)) {
      const name = m[1] ?? m[2]!;
      if (live.columns.has(name)) out.add(name);
    }
  }
  return out;
}

const plainColumn = (key: string, live: LiveTable) => live.columns.has(key.replace(/^"(.*)"$/, '$1'));

/** The index migrate recognises as one it would create (shared with ./adopt-check.ts). */
export function findExpectedIndex(
  expected: ExpectedIndex,
  indexes: readonly LiveIndex[],
): LiveIndex | undefined {
  const onTable = indexes.filter((i) => i.table === expected.table);
  switch (expected.equivalent) {
    case 'symbol-order-time':
      return onTable.find((i) => i.keys[0] === 'symbol' && i.keys[1] === 'order_time');
    case 'sell-buy-version-unique':
      // 0002: indexdef ILIKE 'CREATE UNIQUE INDEX%sell_order_id%buy_order_id%allocation_version%'
      return onTable.find((i) =>
        /^CREATE UNIQUE INDEX.*sell_order_id.*buy_order_id.*allocation_version/is.test(i.definition),
      );
    default:
      return onTable.find((i) => i.name === expected.name);
  }
}

/** Unique keys that could refuse fifo-ledger's rows, and the keys its upserts need. */
export function compareKeys(
  table: ExpectedTable,
  live: LiveTable,
  indexes: readonly LiveIndex[],
  migrations: MigrationState,
): Finding[] {
  if (!table.inserts || live.kind === null) return [];
  const findings: Finding[] = [];
  const onTable = indexes.filter((i) => i.table === table.name);
  const identities = table.identities ?? [];
  const expectedKey = EXPECTED_INDEXES.find(
    (i) => i.table === table.name && i.equivalent === 'sell-buy-version-unique',
  );
  const foundKey = expectedKey ? findExpectedIndex(expectedKey, onTable) : undefined;
  if (expectedKey && !foundKey && migrations.isPending(expectedKey.migration)) {
    findings.push({
      table: table.name,
      column: null,
      object: expectedKey.name,
      severity: 'adapts',
      code: 'unique-key',
      message: `${table.name} has no unique key on ${expectedKey.definition.replace(/^UNIQUE /, '')}: migrate (${expectedKey.migration}) creates ${expectedKey.name}`,
    });
  }
  for (const index of onTable.filter((i) => i.unique)) {
    const base = { table: table.name, column: null, object: index.name, code: 'unique-key' } as const;
    const keys = `(${index.keys.join(', ')})${index.partial ? ' (partial)' : ''}`;
    if (expectedKey && index === foundKey) {
      findings.push({
        ...base,
        severity: 'fine',
        message:
          index.name === expectedKey.name
            ? `${table.name}: unique key ${index.name} ${keys} is fifo-ledger's own`
            : `${table.name}: the unique key ${keys} fifo-ledger needs is there as ${index.name}: migrate creates none`,
      });
      continue;
    }
    const columns = keyColumns(index.keys, live);
    const fits = identities.find((identity) => identity.every((c) => columns.has(c)));
    if (fits) {
      findings.push({
        ...base,
        severity: 'fine',
        message: `${table.name}: unique key ${index.name} ${keys} fits fifo-ledger's rows (one per ${fits.join(', ')})`,
        group: "unique keys fifo-ledger's rows fit",
      });
      continue;
    }
    const identity = identities.at(-1) ?? [];
    const missing = identity.filter((c) => !columns.has(c));
    findings.push({
      ...base,
      severity: 'blocker',
      message: `${table.name}: unique key ${index.name} ${keys} refuses fifo-ledger's rows: it writes one row per (${identity.join(', ')}), and several share ${keys}; drop it, or add ${missing.join(', ')} to it`,
    });
  }
  for (const key of table.conflictKeys ?? []) {
    const exact = onTable.find(
      (i) =>
        i.unique &&
        !i.partial &&
        i.keys.length === key.length &&
        i.keys.every((k) => plainColumn(k, live)) &&
        key.every((c) => i.keys.some((k) => k.replace(/^"(.*)"$/, '$1') === c)),
    );
    if (exact) continue;
    findings.push({
      table: table.name,
      column: null,
      object: null,
      severity: 'blocker',
      code: 'conflict-key',
      message: `${table.name} has no unique key on exactly (${key.join(', ')}): fifo-ledger upserts its rows on it (INSERT ... ON CONFLICT); add it (CREATE UNIQUE INDEX ON ${table.name} (${key.join(', ')}))`,
    });
  }
  return findings;
}

/**
 * Foreign keys that fifo-ledger's writes must satisfy: from a table it inserts into (except the
 * bot's keys from fifo_allocations to trade_records, which 0002 replaces: ./adopt-check.ts
 * reports them), and from other tables to one it deletes from.
 */
export function compareForeignKeys(
  table: ExpectedTable,
  foreignKeys: readonly LiveForeignKey[],
  tables: ReadonlySet<string>,
): Finding[] {
  if (!table.inserts) return [];
  const findings: Finding[] = [];
  for (const fk of foreignKeys) {
    const base = { object: fk.name, severity: 'warning', code: 'foreign-key' } as const;
    if (fk.table === table.name) {
      const replaced = table.name === 'fifo_allocations' && fk.refTable === 'trade_records';
      if (replaced) continue;
      findings.push({
        ...base,
        table: table.name,
        column: fk.columns.length === 1 ? fk.columns[0]! : null,
        message: `${where(table.name, fk.columns.length === 1 ? fk.columns[0]! : null)}: foreign key ${fk.name} ${fk.definition} is not fifo-ledger's: the first row it writes that breaks it stops the run; make sure it holds, or drop it`,
      });
    } else if (fk.refTable === table.name && !tables.has(fk.table)) {
      findings.push({
        ...base,
        table: table.name,
        column: null,
        message: `${table.name} is referenced by ${fk.table}: foreign key ${fk.name} ${fk.definition}: fifo-ledger deletes and rewrites its rows, which the key ${
          fk.onDelete === 'c' ? 'cascades to' : 'refuses while they are referenced'
        }; drop it`,
      });
    }
  }
  return findings;
}
