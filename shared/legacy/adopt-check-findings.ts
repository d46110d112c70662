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
