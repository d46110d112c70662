/**
 * `fifo adopt --check` as text and as JSON. Both carry the same facts: every table's findings,
 * the planned changes, the keys, versions, views and legacy columns, and the problems (one line
 * each; last in the text). The JSON's keys are snake_case, like every other command's.
 */

import { left, right, textTable } from '../util/text-table.ts';
import type { AdoptionCheck } from './adopt-check.ts';
import type { Finding } from './adopt-check-findings.ts';
import { EXPECTED_TABLES } from './expected-schema.ts';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const list = (items: readonly string[]) => (items.length > 0 ? items.join(', ') : 'none');
const day = (t: string | null) => (t ? t.slice(0, 10) : '-');
const num = (n: number | null) => (n === null ? '-' : String(n));

export const blockersOf = (check: AdoptionCheck) => check.problems.filter((p) => p.severity === 'blocker');

/** A table's findings that adapt or are fine, grouped lines first joined, in order of appearance. */
function tableLines(findings: readonly Finding[]): string[] {
  const lines: string[] = [];
  const groups = new Map<string, { severity: string; items: string[] }>();
  for (const f of findings) {
    if (f.severity === 'blocker' || f.severity === 'warning') continue;
    if (!f.group) {
      lines.push(`    ${f.severity}: ${f.message}`);
      continue;
    }
    const key = `${f.severity}: ${f.group}`;
    const group = groups.get(key) ?? { severity: f.severity, items: [] };
    if (!groups.has(key)) {
      groups.set(key, group);
      lines.push(key);
    }
    group.items.push(f.item ?? f.column ?? f.object ?? '');
  }
  return lines.map((l) => (groups.has(l) ? `    ${l}: ${groups.get(l)!.items.join(', ')}` : l));
}

export function adoptionReport(check: AdoptionCheck, database: string): string {
  const out: string[] = [`fifo adopt --check: what "fifo migrate" would do to ${database}`, ''];
  const m = check.migrations;
  out.push(
    m.tableExists
      ? `Migrations: ${m.applied.length} applied (${list(m.applied.map((a) => a.name))}); ` +
          `${m.pending.length === 0 ? 'none pending' : `to apply: ${m.pending.join(', ')}`}`
      : `Migrations: fifo_ledger_migrations does not exist (never migrated); to apply: ${list(m.pending)}`,
  );
  const blockers = blockersOf(check);
  out.push(
    blockers.length > 0
      ? `Verdict: migrate would fail or leave the jobs unable to run: ${plural(blockers.length, 'blocker')} (PROBLEMS, at the end); fix ${blockers.length === 1 ? 'it' : 'them'} before "fifo migrate".`
      : check.upToDate
        ? 'Verdict: up to date, migrate has nothing to do.'
        : 'Verdict: migrate can be applied (no blocker found).',
  );

  out.push('', 'TABLES: what fifo-ledger reads and writes, against what is there');
  for (const expected of EXPECTED_TABLES) {
    const findings = check.findings.filter((f) => f.table === expected.name);
    const summary = check.columns.find((c) => c.table === expected.name);
    const problems = findings.filter((f) => f.severity === 'blocker' || f.severity === 'warning');
    const blocking = problems.filter((f) => f.severity === 'blocker').length;
    out.push(
      `  ${expected.name}: ${expected.role}${
        problems.length > 0
          ? ` (${plural(blocking, 'blocker')}, ${plural(problems.length - blocking, 'warning')}: see PROBLEMS)`
          : ''
      }`,
    );
    out.push(...tableLines(findings));
    if (summary && summary.deprecatedPresent.length > 0) {
      out.push(
        `    fine: deprecated, present (nothing in the jobs reads them): ${list(summary.deprecatedPresent)}`,
      );
    }
  }

  out.push(
    '',
    `SCHEMA CHANGES (${check.changes.length}; ${check.inPlace} expected objects already in place)`,
  );
  if (check.changes.length === 0) out.push('  none');
  else
    out.push(
      ...textTable(
        [left('Action'), left('Kind'), left('Object'), left('Migration'), left('Detail')],
        check.changes.map((c) => [c.action, c.kind, c.name, c.migration, c.detail]),
      ),
    );

  out.push('', 'FOREIGN KEYS FROM fifo_allocations TO trade_records');
  if (check.foreignKeys.length === 0) out.push('  none (a deleted trade is seen by change capture)');
  for (const fk of check.foreignKeys) {
    out.push(`  ${fk.name}: (${fk.columns.join(', ')}) -> ${fk.references} ON DELETE ${fk.onDelete}`);
    out.push(`    ${fk.replacement}`);
  }

  out.push('', 'ALLOCATION VERSIONS');
  if (check.versions.length === 0) out.push('  none stored');
  else
    out.push(
      ...textTable(
        [
          left('Version'),
          right('Rows'),
          right('Sells'),
          right('Unmatched rows'),
          left('Sells from'),
          left('to'),
          right('Lots'),
          right('Open lots'),
          right('Pending changes'),
          left('Captured'),
          left('Last full run'),
        ],
        check.versions.map((v) => [
          String(v.version),
          String(v.allocations),
          num(v.sells),
          num(v.unmatchedRows),
          day(v.firstSell),
          day(v.lastSell),
          String(v.lots),
          String(v.openLots),
          String(v.pendingChanges),
          v.registered ? 'yes' : 'no',
          v.lastCompletedFullRun ?? '-',
        ]),
      ),
    );

  out.push('', 'VIEWS READING THESE TABLES (kept as they are)');
  if (check.dependentViews.length === 0) out.push('  none');
  for (const v of check.dependentViews) {
    out.push(
      `  ${v.view}: reads ${v.reads.join(', ')}${
        v.legacyColumns.length > 0
          ? ` (legacy ${v.legacyColumns.join(', ')}: NULL after "fifo legacy archive" until "fifo legacy restore")`
          : ''
      }`,
    );
  }
  if (check.triggersKept.length > 0) {
    out.push('', 'OTHER TRIGGERS ON trade_records (kept)', ...check.triggersKept.map((t) => `  ${t}`));
  }

  const l = check.legacy;
  out.push('', 'LEGACY PNL COLUMNS (fifo legacy archive moves them)');
  out.push(
    `  ${l.columns.map((c) => (c.present ? `${c.column} ${c.type}: ${c.values} values` : `${c.column}: absent`)).join('; ')}`,
    `  ${plural(l.tradesWithValues, 'trade')} with a legacy value; archive table ${
      l.archiveExists ? `exists with ${plural(l.archivedRows, 'row')}` : 'not created yet (migration 0004)'
    }`,
  );

  // Last, where the operator's eye lands: one line per problem.
  out.push('', 'PROBLEMS');
  if (check.problems.length === 0) out.push('  none');
  for (const p of check.problems) out.push(`  ${p.severity.toUpperCase()}: ${p.message}`);
  return `${out.join('\n')}\n`;
}

/** `adopt --check --json`: the same facts, snake_case. */
export function adoptionJson(check: AdoptionCheck, database: string) {
  const blockers = blockersOf(check).length;
  return {
    database,
    ok: blockers === 0,
    blockers,
    warnings: check.problems.length - blockers,
    server_version: check.serverVersion,
    up_to_date: check.upToDate,
    migrations: {
      table_exists: check.migrations.tableExists,
      applied: check.migrations.applied.map((a) => ({ name: a.name, run_on: a.runOn })),
      pending: check.migrations.pending,
    },
    problems: check.problems.map((p) => ({
      severity: p.severity,
      table: p.table,
      column: p.column,
      message: p.message,
    })),
    findings: check.findings.map((f) => ({
      table: f.table,
      column: f.column,
      object: f.object,
      severity: f.severity,
      code: f.code,
      message: f.message,
    })),
    tables: check.columns.map((c) => ({
      table: c.table,
      exists: c.exists,
      added_by_migrate: c.addedByMigrate,
      missing_required: c.missingRequired,
      missing_optional: c.missingOptional,
      deprecated_present: c.deprecatedPresent,
      deprecated_absent: c.deprecatedAbsent,
      unknown: c.unknown,
    })),
    changes: check.changes.map((c) => ({
      kind: c.kind,
      name: c.name,
      action: c.action,
      migration: c.migration,
      detail: c.detail,
    })),
    in_place: check.inPlace,
    foreign_keys: check.foreignKeys.map((fk) => ({
      name: fk.name,
      columns: fk.columns,
      references: fk.references,
      on_delete: fk.onDelete,
      replacement: fk.replacement,
    })),
    versions: check.versions.map((v) => ({
      version: v.version,
      allocations: v.allocations,
      sells: v.sells,
      unmatched_rows: v.unmatchedRows,
      first_sell: v.firstSell,
      last_sell: v.lastSell,
      lots: v.lots,
      open_lots: v.openLots,
      pending_changes: v.pendingChanges,
      registered: v.registered,
      last_completed_full_run: v.lastCompletedFullRun,
    })),
    dependent_views: check.dependentViews.map((v) => ({
      view: v.view,
      reads: v.reads,
      legacy_columns: v.legacyColumns,
    })),
    triggers_kept: check.triggersKept,
    legacy: {
      columns: check.legacy.columns.map((c) => ({
        column: c.column,
        present: c.present,
        type: c.type,
        values: c.values,
      })),
      trades_with_values: check.legacy.tradesWithValues,
      archive_exists: check.legacy.archiveExists,
      archived_rows: check.legacy.archivedRows,
    },
  };
}
