/**
 * Whose version is it. fifo_allocations is shared with the bot, whose own FIFO script writes
 * version 2 (docs/design.md §3.1). A version is fifo-ledger's once it is registered in
 * fifo_versions, which only fifo-ledger's runs do; a version that holds allocation rows and is
 * not registered was written by someone else, and a run would overwrite those rows.
 */
import type pg from 'pg';
import { ConfigError, type JobLogger } from './context.ts';

export class ForeignVersionError extends ConfigError {
  override name = 'ForeignVersionError';
}

/**
 * Throws ForeignVersionError unless the version is fifo-ledger's, empty, or taken over on
 * purpose (`takeOver`, the CLI's --take-over-version), in which case the run registers it.
 */
export async function assertVersionIsOurs(
  client: pg.ClientBase,
  version: number,
  takeOver: boolean,
  logger: JobLogger,
): Promise<void> {
  const { rows } = await client.query<{ ours: boolean; foreign_rows: string | null }>(
    `SELECT EXISTS (SELECT 1 FROM fifo_versions WHERE allocation_version = $1) AS ours,
            (SELECT count(*)::text FROM fifo_allocations WHERE allocation_version = $1
             AND NOT EXISTS (SELECT 1 FROM fifo_versions WHERE allocation_version = $1)) AS foreign_rows`,
    [version],
  );
  const foreignRows = Number(rows[0]?.foreign_rows ?? 0);
  if (rows[0]?.ours || foreignRows === 0) return;
  if (takeOver) {
    logger.warn('taking over a version fifo-ledger did not write: its rows will be replaced', {
      version,
      foreignRows,
    });
    return;
  }
  throw new ForeignVersionError(
    `version ${version} holds ${foreignRows.toLocaleString('en-US')} allocation rows that fifo-ledger did not write ` +
      `(the bot's own FIFO writes version 2); a run would overwrite them. Build a version of your own beside it ` +
      `(--version 3, docs/migration.md step 3), or pass --take-over-version to replace them (docs/migration.md, ` +
      `"Taking over the bot's version").`,
  );
}
