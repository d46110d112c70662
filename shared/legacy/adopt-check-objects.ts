/**
 * The objects `fifo adopt --check` plans beside the tables (./adopt-check-tables.ts): the trade
 * source view, the functions and triggers of change capture, and what else the pending
 * migrations do (roles, grants). One function per kind, each returning its part of the check.
 */
import type pg from 'pg';
import { relationKind } from './adopt-check-catalog.ts';
import {
  expectObject,
  type MigrationState,
  mergeParts,
  NOTHING,
  type Part,
  type PlannedChange,
  type Problem,
  planMissing,
  problem,
} from './adopt-check-findings.ts';
import {
  EXPECTED_FUNCTIONS,
  EXPECTED_INDEXES,
  EXPECTED_TABLES,
  EXPECTED_TRIGGERS,
  MIGRATION_EFFECTS,
  TRADE_SOURCE_VIEW,
} from './expected-schema.ts';

type Q = pg.ClientBase;

/** The one view the engine reads. */
export async function checkTradeSourceView(q: Q, state: MigrationState): Promise<Part> {
  const { name, migration } = TRADE_SOURCE_VIEW;
  const kind = await relationKind(q, name);
  if (kind === null) {
    return planMissing(
      {
        kind: 'view',
        name,
        action: 'create',
        migration,
        detail: 'the one view the engine reads (filled trades, side lower-cased, float8 as text)',
      },
      state,
    );
  }
  if (kind !== 'v') {
    return {
      ...NOTHING,
      inPlace: 1,
      problems: [
        problem('blocker', `${name} exists but is not a view (relkind ${kind}): rename it or drop it`, name),
      ],
    };
  }
  if (!state.isPending(migration)) return { ...NOTHING, inPlace: 1 };
  return {
    ...NOTHING,
    inPlace: 1,
    changes: [
      {
        kind: 'view',
        name,
        action: 'replace',
        migration,
        detail: 'CREATE OR REPLACE VIEW with the standard definition',
      },
    ],
  };
}

/** The functions of change capture. */
export async function checkFunctions(q: Q, state: MigrationState): Promise<Part> {
  const parts: Part[] = [];
  for (const expected of EXPECTED_FUNCTIONS) {
    const { rows } = await q.query<{ exists: boolean }>('SELECT to_regprocedure($1) IS NOT NULL AS exists', [
      expected.signature,
    ]);
    parts.push(
      expectObject(
        rows[0]?.exists === true,
        {
          kind: 'function',
          name: expected.signature,
          migration: expected.migration,
          create: expected.definition,
          replace: `CREATE OR REPLACE FUNCTION: ${expected.definition}`,
        },
        state,
      ),
    );
  }
  return mergeParts(parts);
}

/** The triggers of change capture on trade_records; `kept` are the others (the bot's), untouched. */
export async function checkTriggers(q: Q, state: MigrationState): Promise<Part & { kept: string[] }> {
  const { rows: triggers } = await q.query<{ name: string; definition: string }>(
    `SELECT tgname::text AS name, pg_get_triggerdef(oid) AS definition FROM pg_trigger
     WHERE tgrelid = to_regclass('trade_records') AND NOT tgisinternal ORDER BY tgname`,
  );
  const parts = EXPECTED_TRIGGERS.map((expected) =>
    expectObject(
      triggers.some((t) => t.name === expected.name),
      {
        kind: 'trigger',
        name: `${expected.table}.${expected.name}`,
        migration: expected.migration,
        create: expected.definition,
        replace: `dropped and created again: ${expected.definition}`,
      },
      state,
    ),
  );
  const ours = new Set(EXPECTED_TRIGGERS.map((t) => t.name));
  return {
    ...mergeParts(parts),
    kept: triggers.filter((t) => !ours.has(t.name)).map((t) => t.definition),
  };
}

/** The pending migrations' effects that are not objects of the lists (roles, grants, ...). */
export async function planEffects(q: Q, pending: readonly string[]): Promise<Part> {
  const described = new Set<string>([
    ...EXPECTED_TABLES.map((t) => t.migration),
    ...EXPECTED_TABLES.flatMap((t) => t.columns.flatMap((c) => (c.migration ? [c.migration] : []))),
    ...EXPECTED_INDEXES.map((i) => i.migration),
    ...EXPECTED_TRIGGERS.map((t) => t.migration),
    ...EXPECTED_FUNCTIONS.map((f) => f.migration),
    ...Object.keys(MIGRATION_EFFECTS),
  ]);
  const changes: PlannedChange[] = [];
  const problems: Problem[] = [];
  for (const name of pending) {
    for (const effect of MIGRATION_EFFECTS[name] ?? []) {
      if (effect.kind === 'role') {
        const { rows } = await q.query<{ exists: boolean }>(
          'SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS exists',
          [effect.name],
        );
        if (rows[0]?.exists) continue;
      }
      changes.push({ ...effect, migration: name });
    }
    if (!described.has(name)) {
      changes.push({
        kind: 'migration',
        name,
        action: 'apply',
        migration: name,
        detail: 'not described in shared/legacy/expected-schema.ts: read the file before migrating',
      });
      problems.push(
        problem(
          'warning',
          `pending migration ${name} is not described by this check: read migrations/${name}.sql`,
        ),
      );
    }
  }
  return { ...NOTHING, changes, problems };
}
