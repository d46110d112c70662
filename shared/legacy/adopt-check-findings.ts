/**
 * One difference between what fifo-ledger needs of a table and what the database has, and
 * what becomes of it: `migrate` adapts to it, it is fine as it is, it deserves a look, or it
 * blocks (migrate would fail, or the jobs could not write their rows).
 */
import type { MigrationName } from './expected-schema.ts';

export type Severity = 'blocker' | 'warning' | 'adapts' | 'fine';

export type FindingCode =
  | 'table'
  | 'missing-column'
  | 'unknown-column'
  | 'type'
  | 'not-null'
  | 'default'
  | 'generated'
  | 'check'
  | 'unique-key'
  | 'conflict-key'
  | 'foreign-key';

export interface Finding {
  readonly table: string;
  /** The column it is about, when one. */
  readonly column: string | null;
  /** The constraint or index it is about, when one. */
  readonly object: string | null;
  readonly severity: Severity;
  readonly code: FindingCode;
  /** One line naming the table (and column), the difference and, for a problem, what to do. */
  readonly message: string;
  /**
   * Fine and adapting findings that say the same thing of several columns share a group: the
   * text lists them on one line.
   */
  readonly group?: string;
  /** How the finding reads in its group's list; the column (or object) when absent. */
  readonly item?: string;
}

/** What the comparison needs to know of the migrations. */
export interface MigrationState {
  /** Not recorded in fifo_ledger_migrations: `migrate` will run it. */
  isPending(migration: MigrationName | string): boolean;
}

/** What the operator must act on (blocker) or look at (warning). */
export interface Problem {
  /** blocker: `migrate` would fail or leave the jobs unable to run. warning: look at it. */
  readonly severity: 'blocker' | 'warning';
  /** The table and column it is about, when one. */
  readonly table: string | null;
  readonly column: string | null;
  /** One line: what is wrong and what to do. */
  readonly message: string;
}

export const problem = (
  severity: Problem['severity'],
  message: string,
  table: string | null = null,
  column: string | null = null,
): Problem => ({ severity, table, column, message });

/** A blocking or warning finding as a problem; null for one that adapts or is fine. */
export const asProblem = (f: Finding): Problem | null =>
  f.severity === 'blocker' || f.severity === 'warning'
    ? problem(f.severity, f.message, f.table, f.column)
    : null;

/** `table.column`, or the table. */
export const where = (table: string, column: string | null): string =>
  column === null ? table : `${table}.${column}`;

export type ChangeKind =
  | 'table'
  | 'column'
  | 'index'
  | 'constraint'
  | 'foreign key'
  | 'view'
  | 'function'
  | 'trigger'
  | 'role'
  | 'grant'
  | 'migration';

/** One thing `migrate` would do. */
export interface PlannedChange {
  readonly kind: ChangeKind;
  /** `table`, `table.column`, or the object's name. */
  readonly name: string;
  readonly action: 'create' | 'add' | 'replace' | 'drop' | 'alter' | 'grant' | 'apply';
  readonly migration: MigrationName | string;
  readonly detail: string;
}

/**
 * What the check of one kind of object (tables, indexes, the view, ...) contributes. The check
 * merges them in the order the report lists them: each keeps its own changes, problems and
 * findings in order.
 */
export interface Part {
  readonly changes: readonly PlannedChange[];
  readonly problems: readonly Problem[];
  readonly findings: readonly Finding[];
  /** Expected objects already in place. */
  readonly inPlace: number;
}

export const NOTHING: Part = { changes: [], problems: [], findings: [], inPlace: 0 };

export const mergeParts = (parts: readonly Part[]) => ({
  changes: parts.flatMap((p) => p.changes),
  problems: parts.flatMap((p) => p.problems),
  findings: parts.flatMap((p) => p.findings),
  inPlace: parts.reduce((n, p) => n + p.inPlace, 0),
});

/** Findings, and the problems among them. */
export const fromFindings = (findings: readonly Finding[]): Part => ({
  ...NOTHING,
  findings,
  problems: findings.flatMap((f) => asProblem(f) ?? []),
});

/** An object of an applied migration that is missing: node-pg-migrate will not run it again. */
export const drift = (what: string, migration: string): Problem =>
  problem(
    'warning',
    `${what} is missing although ${migration} is recorded as applied: migrate will not recreate it`,
  );

/** A missing object: planned when its migration is pending, drift when it is applied. */
export const planMissing = (change: PlannedChange, state: MigrationState): Part =>
  state.isPending(change.migration)
    ? { ...NOTHING, changes: [change] }
    : { ...NOTHING, problems: [drift(`${change.kind} ${change.name}`, change.migration)] };

/** An object a migration creates: planned when missing, listed as replaced when its migration is pending. */
export function expectObject(
  exists: boolean,
  object: { kind: ChangeKind; name: string; migration: string; create: string; replace: string },
  state: MigrationState,
): Part {
  const { kind, name, migration } = object;
  if (!exists) return planMissing({ kind, name, action: 'create', migration, detail: object.create }, state);
  return {
    ...NOTHING,
    inPlace: 1,
    changes: state.isPending(migration)
      ? [{ kind, name, action: 'replace', migration, detail: object.replace }]
      : [],
  };
}
