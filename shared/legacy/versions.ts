/**
 * The parallel run's versions: list them, and delete those no longer needed (`fifo prune
 * --keep N`); ./compare-versions.ts compares two (`fifo compare --versions 2,3`).
 *
 * The version the functions and the report use is FIFO_ALLOCATION_VERSION (the CDK context
 * key allocationVersion sets it on every function); switching it is the cut-over, and
 * switching it back is the rollback, as long as the old version is kept.
 */
import type pg from 'pg';
import type { Database } from '../db/pool.ts';
import { acquire } from '../db/pool.ts';
import { tryLockVersion, unlockVersion } from '../db/run-log.ts';

/** Every table that holds rows per allocation version; removing a version empties it from all. */
export const VERSIONED_TABLES = [
  'fifo_allocations',
  'fifo_lots',
  'fifo_symbol_progress',
  'fifo_trade_changes',
  'fifo_versions',
] as const;

export class VersionError extends Error {
  override name = 'VersionError';
}

export interface StoredVersion {
  readonly version: number;
  readonly allocations: number;
  readonly lots: number;
  readonly progress: number;
  readonly changes: number;
  /** Has a fifo_versions row. */
  readonly registered: boolean;
}

/** Every version anything is stored for, lowest first. */
export async function listVersions(q: pg.ClientBase): Promise<StoredVersion[]> {
  const { rows } = await q.query<{
    v: number;
    allocations: string;
    lots: string;
    progress: string;
    changes: string;
    registered: boolean;
  }>(
    `WITH counts AS (
       SELECT allocation_version AS v, count(*) AS allocations, 0::bigint AS lots, 0::bigint AS progress,
              0::bigint AS changes, false AS registered
       FROM fifo_allocations GROUP BY allocation_version
       UNION ALL SELECT allocation_version, 0, count(*), 0, 0, false FROM fifo_lots GROUP BY allocation_version
       UNION ALL SELECT allocation_version, 0, 0, count(*), 0, false FROM fifo_symbol_progress GROUP BY allocation_version
       UNION ALL SELECT allocation_version, 0, 0, 0, count(*), false FROM fifo_trade_changes GROUP BY allocation_version
       UNION ALL SELECT allocation_version, 0, 0, 0, 0, true FROM fifo_versions
     )
     SELECT v, sum(allocations)::text AS allocations, sum(lots)::text AS lots, sum(progress)::text AS progress,
            sum(changes)::text AS changes, bool_or(registered) AS registered
     FROM counts GROUP BY v ORDER BY v`,
  );
  return rows.map((r) => ({
    version: r.v,
    allocations: Number(r.allocations),
    lots: Number(r.lots),
    progress: Number(r.progress),
    changes: Number(r.changes),
    registered: r.registered,
  }));
}

export interface PruneOptions {
  /** How many versions to keep, the active one included (>= 1). */
  readonly keep: number;
  /** The version the functions and the report use: never deleted. */
  readonly active: number;
  /** Say what would be deleted, delete nothing. */
  readonly dryRun?: boolean;
}

export interface PruneResult {
  readonly active: number;
  readonly keep: number;
  readonly dryRun: boolean;
  readonly kept: StoredVersion[];
  /** Deleted (or, in a dry run, to delete), with what each held. */
  readonly deleted: StoredVersion[];
  /** Views whose definition names a deleted version: they will answer with no rows. */
  readonly warnings: string[];
}

/**
 * Which versions `prune --keep N` keeps: the active version, and the N-1 highest-numbered
 * others (versions are built in increasing order, `full --version N+1`). Pure.
 */
export function planPrune(
  versions: readonly number[],
  keep: number,
  active: number,
): {
  keep: number[];
  remove: number[];
} {
  if (!Number.isInteger(keep) || keep < 1) {
    throw new VersionError(
      `--keep must be a whole number >= 1 (the active version is always kept), got ${keep}`,
    );
  }
  const others = [...new Set(versions)].filter((v) => v !== active).sort((a, b) => b - a);
  const kept = [active, ...others.slice(0, keep - 1)].sort((a, b) => a - b);
  const remove = others.slice(keep - 1).sort((a, b) => a - b);
  if (remove.includes(active)) throw new VersionError(`refusing to delete the active version ${active}`);
  return { keep: kept, remove };
}

/**
 * Deletes the allocations, lots, progress, pending changes and fifo_versions row of every
 * version `planPrune` does not keep, in one transaction, holding each deleted version's
 * advisory lock so no run of it writes meanwhile. The computation log is kept (history).
 *
 * Refuses (VersionError) when the active version holds nothing (a wrong active version would
 * otherwise leave the functions with no data), or when a run of a version to delete is going.
 */
export async function pruneVersions(db: Database, options: PruneOptions): Promise<PruneResult> {
  const client = await acquire(db);
  const locked: number[] = [];
  try {
    const stored = await listVersions(client);
    const active = stored.find((v) => v.version === options.active);
    if (!active || (active.allocations === 0 && active.lots === 0 && !active.registered)) {
      throw new VersionError(
        `refusing to prune: the active version ${options.active} holds nothing here ` +
          `(versions stored: ${stored.map((v) => v.version).join(', ') || 'none'}). ` +
          'Check FIFO_ALLOCATION_VERSION / --active: prune never deletes the version in use, and will not guess it.',
      );
    }
    const plan = planPrune(
      stored.map((v) => v.version),
      options.keep,
      options.active,
    );
    const deleted = stored.filter((v) => plan.remove.includes(v.version));
    const kept = stored.filter((v) => plan.keep.includes(v.version));
    const warnings = await viewWarnings(client, plan.remove);
    const result = {
      active: options.active,
      keep: options.keep,
      dryRun: options.dryRun ?? false,
      kept,
      deleted,
      warnings,
    };
    if (options.dryRun || deleted.length === 0) return result;
    for (const v of plan.remove) {
      if (!(await tryLockVersion(client, v))) {
        throw new VersionError(
          `refusing to prune: a run of version ${v} is in progress; try again when it ends`,
        );
      }
      locked.push(v);
    }
    await client.query('BEGIN');
    try {
      for (const table of VERSIONED_TABLES) {
        await client.query(`DELETE FROM ${table} WHERE allocation_version = ANY ($1::int[])`, [plan.remove]);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
    return result;
  } finally {
    for (const v of locked) await unlockVersion(client, v).catch(() => {});
    client.release();
  }
}

/** Views whose definition filters on one of these versions (e.g. the bot's `allocation_version = 2`). */
async function viewWarnings(q: pg.ClientBase, versions: readonly number[]): Promise<string[]> {
  if (versions.length === 0) return [];
  const { rows } = await q.query<{ name: string; definition: string }>(
    `SELECT c.relname::text AS name, pg_get_viewdef(c.oid) AS definition FROM pg_class c
     WHERE c.relkind IN ('v', 'm') AND c.relnamespace = ANY (
       SELECT oid FROM pg_namespace WHERE nspname = ANY (current_schemas(false)))
     ORDER BY c.relname`,
  );
  const warnings: string[] = [];
  for (const v of versions) {
    const pattern = new RegExp(`allocation_version\\s*=\\s*${v}(?![0-9])`);
    const names = rows.filter((r) => pattern.test(r.definition)).map((r) => r.name);
    if (names.length > 0) {
      warnings.push(
        `view${names.length > 1 ? 's' : ''} ${names.join(', ')} read${names.length > 1 ? '' : 's'} version ${v}: ` +
          'after the prune they answer with no rows (redefine them on the active version first)',
      );
    }
  }
  return warnings;
}
