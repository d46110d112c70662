/**
 * Safe by default on a database that is not fifo-ledger's yet: every command says in one line what is missing and what to run, never a stack
 * trace; the demo checks before it changes anything; the bot's version is not overwritten.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../shared/db/migrate.ts';
import { withConnection } from '../../shared/db/pool.ts';
import { type CliRun, runCli } from '../legacy/support.ts';
import { createBotSchema } from '../support/bot-schema.ts';
import { createEmptyDatabase, type TestDatabase } from '../support/database.ts';

/** Every command that reads or writes fifo-ledger's tables. */
const COMMANDS = [
  ['health'],
  ['explain', 'nov-sell'],
  ['full', '--version', '3'],
  ['incremental', '--version', '3'],
  ['report', '--hours', '24'],
  ['reconcile', '--all', '--version', '3'],
  ['compare', '--versions', '2,3'],
  ['prune', '--keep', '1', '--active', '3', '--dry-run'],
  ['legacy', 'archive'],
  ['legacy', 'restore'],
];

/** Runs them four at a time: each is a process of its own. */
async function runAll(url: string): Promise<CliRun[]> {
  const runs: CliRun[] = [];
  for (let i = 0; i < COMMANDS.length; i += 4) {
    runs.push(...(await Promise.all(COMMANDS.slice(i, i + 4).map((args) => runCli(url, args)))));
  }
  return runs;
}

/** One line on stderr, exit 1, no stack frame. */
function expectOneLine(runs: CliRun[], pattern: RegExp) {
  runs.forEach((run, i) => {
    const label = COMMANDS[i]!.join(' ');
    expect({ label, code: run.code }).toEqual({ label, code: 1 });
    const lines = run.stderr.trim().split('\n');
    expect({ label, lines: lines.length }).toEqual({ label, lines: 1 });
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(lines[0]).toMatch(pattern);
  });
}

async function tableCounts(db: TestDatabase) {
  const { rows } = await db.pool.query(
    `SELECT c.relname, (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I', c.relname),
              false, true, '')))[1]::text AS n
     FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
     WHERE s.nspname = 'public' AND c.relkind = 'r' ORDER BY 1`,
  );
  return rows;
}

describe('commands on a database fifo-ledger has not migrated', { tags: 'server' }, () => {
  const dbs: TestDatabase[] = [];
  const fresh = async () => {
    const db = await createEmptyDatabase();
    dbs.push(db);
    return db;
  };
  afterAll(async () => {
    for (const db of dbs) await db.drop();
  });

  it('an empty database: one line, "run: fifo migrate"', async () => {
    // Why: `relation ... does not exist` and stack traces told the operator nothing.
    // Prepare
    const db = await fresh();

    // Act
    const runs = await runAll(db.url);

    // Assess
    expectOneLine(runs, /fifo-ledger's schema is not installed in this database: run: fifo migrate$/);
  });

  it("the bot's database before adoption: one line pointing at adopt --check, and nothing changed", async () => {
    // Why: on the bot's database the first step is the read-only check, not a migration.
    // Prepare
    const db = await fresh();
    await createBotSchema(db.pool);
    const before = await tableCounts(db);

    // Act
    const runs = await runAll(db.url);

    // Assess
    expectOneLine(runs, /has the bot's tables .* run: fifo adopt --check, then fifo migrate/);
    expect(await tableCounts(db)).toEqual(before);
  });

  it('a database migrated by an older fifo-ledger: one line naming what is missing', async () => {
    // Why: a deploy that skipped its migration must not fail halfway through a job.
    // Prepare
    const db = await fresh();
    await createBotSchema(db.pool);
    await withConnection(db, migrate);
    const { rows } = await db.pool.query<{ name: string }>(
      'DELETE FROM fifo_ledger_migrations WHERE name = (SELECT max(name) FROM fifo_ledger_migrations) RETURNING name',
    );
    const newest = rows[0]!.name;
    const { rows: left } = await db.pool.query<{ name: string }>(
      'SELECT max(name) AS name FROM fifo_ledger_migrations',
    );

    // Act
    const runs = await runAll(db.url);

    // Assess
    expectOneLine(
      runs,
      new RegExp(
        `the schema is older than this fifo-ledger \\(at ${left[0]!.name}; missing ${newest}\\): run: fifo migrate$`,
      ),
    );
  });
});

describe("the bot's database, adopted", { tags: 'server' }, () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createEmptyDatabase();
    await createBotSchema(db.pool);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('npm start (fifo demo) with DATABASE_URL on it refuses before changing anything', async () => {
    // Why: the demo used to apply every migration to the bot's database, then refuse.
    // Prepare
    const before = await tableCounts(db);

    // Act
    const run = await runCli(db.url, ['demo']);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /trade_records table that fifo-ledger did not create; the demo .* changed nothing/,
    );
    expect(await tableCounts(db)).toEqual(before);
    const { rows } = await db.pool.query(`SELECT to_regclass('fifo_ledger_migrations') AS t`);
    expect(rows[0].t).toBeNull();
  });

  it("fifo full --version 2 refuses the bot's version in one line, and --take-over-version is named", async () => {
    // Why: version 2 is the bot's; overwriting it must be a decision, not a default.
    // Prepare
    await withConnection(db, migrate);

    // Act
    const run = await runCli(db.url, ['full', '--version', '2']);
    const json = await runCli(db.url, ['full', '--version', '2', '--json']);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^fifo: version 2 holds 2 allocation rows .*--take-over-version/);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/version 2 holds/),
    });
  });
});
