/**
 * Change capture cannot be hijacked (migrations/0009_security.sql). The reproduction: a role
 * that owns the database, as the bot's login typically does, defines an `=` for
 * (varchar, varchar) in public, attaches the security-definer capture function to an UPDATE
 * trigger of its own table and updates a row: the operator then ran with the migration
 * owner's rights, and `ALTER ROLE <bot> SUPERUSER` succeeded.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../shared/db/migrate.ts';
import { withConnection } from '../../shared/db/pool.ts';
import { BOT_SCHEMA_SQL } from '../support/bot-schema.ts';
import { createEmptyDatabase, type TestDatabase } from '../support/database.ts';

describe('the capture functions against the database owner (needs a server: roles)', {
  tags: 'server',
}, () => {
  let admin: TestDatabase;
  let bot: pg.Client;
  const role = `bot_owner_${randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    admin = await createEmptyDatabase();
    const name = new URL(admin.url).pathname.slice(1);
    await admin.pool.query(`CREATE ROLE ${role} LOGIN`);
    await admin.pool.query(`ALTER DATABASE ${name} OWNER TO ${role}`);
    const url = new URL(admin.url);
    url.username = role;
    bot = new pg.Client({ connectionString: url.toString() });
    await bot.connect();
    // The bot created its tables; fifo-ledger's migrations ran as another, privileged role.
    await bot.query(BOT_SCHEMA_SQL);
    await withConnection(admin, migrate);
    await admin.pool.query('INSERT INTO fifo_versions (allocation_version) VALUES (3)');
    await bot.query(
      `CREATE FUNCTION public.evil_eq(varchar, varchar) RETURNS boolean LANGUAGE plpgsql AS $$
       BEGIN EXECUTE format('ALTER ROLE %I SUPERUSER', session_user); RETURN $1::text = $2::text; END $$;
       CREATE OPERATOR public.= (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = public.evil_eq)`,
    );
  }, 60_000);
  afterAll(async () => {
    await bot?.end();
    await admin?.drop();
    const cleanup = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await cleanup.connect();
    await cleanup.query(`DROP ROLE IF EXISTS ${role}`);
    await cleanup.end();
  });

  const isSuperuser = async () =>
    (await admin.pool.query('SELECT rolsuper FROM pg_roles WHERE rolname = $1', [role])).rows[0].rolsuper;

  it('may not attach any fifo-ledger function to a trigger of its own', async () => {
    // Why: attaching the definer function to its own table was the first step of the exploit.
    // Prepare
    await bot.query(
      'CREATE TABLE mine (order_id varchar, symbol varchar, order_time timestamptz, status varchar)',
    );
    const functions = [
      'fifo_capture_trade_insert',
      'fifo_capture_trade_update',
      'fifo_capture_trade_delete',
      'fifo_note_mirror_write',
    ];

    // Act
    const attempts = [];
    for (const fn of functions) {
      attempts.push(
        await bot
          .query(`CREATE TRIGGER t_${fn} AFTER UPDATE ON mine FOR EACH ROW EXECUTE FUNCTION ${fn}()`)
          .then(
            () => 'attached',
            (error: Error) => error.message,
          ),
      );
    }

    // Assess
    expect(attempts).toEqual(functions.map((fn) => `permission denied for function ${fn}`));
    expect(await isSuperuser()).toBe(false);
  });

  it("the bot's own writes are still captured, with the operator in place, and escalate nothing", async () => {
    // Why: the functions run in the bot's sessions; hardening must not stop capture.
    // Prepare
    await bot.query(
      `INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, "trigger", status)
       VALUES ('x1', 'BTC-USD', 'buy', '2026-01-01', 100, 1, '{}', 'filled')`,
    );

    // Act (the bot's comparisons cast to text: its own operator would trap its own queries)
    await bot.query(`UPDATE trade_records SET status = status, price = 101 WHERE order_id::text = 'x1'`);
    await bot.query(`UPDATE trade_records SET remaining_size = 0 WHERE order_id::text = 'x1'`);
    // The off-switch of old: a session could hide its deletes with it.
    await bot.query(`SET fifo.suppress_capture = on`);
    await bot.query(`DELETE FROM trade_records WHERE order_id::text = 'x1'`);

    // Assess: insert, update (before and after), delete
    const { rows } = await admin.pool.query(
      `SELECT order_id FROM fifo_trade_changes WHERE allocation_version = 3 ORDER BY change_id`,
    );
    expect(rows.map((r) => r.order_id)).toEqual(['x1', 'x1', 'x1', 'x1']);
    const { rows: mirror } = await admin.pool.query('SELECT order_id FROM fifo_mirror_writes');
    expect(mirror).toEqual([{ order_id: 'x1' }]);
    expect(await isSuperuser()).toBe(false);
  });

  it('attached anyway (by a superuser), the function never calls the operator the owner planted', async () => {
    // Why: the second half of the exploit: the definer's search_path began with public.
    // Prepare
    await admin.pool.query(
      'CREATE TRIGGER attached AFTER UPDATE ON mine FOR EACH ROW EXECUTE FUNCTION fifo_capture_trade_update()',
    );
    await bot.query(`INSERT INTO mine VALUES ('m1', 'BTC-USD', '2026-01-01', 'filled')`);

    // Act
    await bot.query('UPDATE mine SET status = status');

    // Assess
    expect(await isSuperuser()).toBe(false);
  });

  it('the capture functions belong to a role that may only record changes', async () => {
    // Why: even a function someone did manage to call can then do no more than that.
    // Prepare / Act
    const { rows } = await admin.pool.query(
      `SELECT p.proname, pg_get_userbyid(p.proowner) AS owner, p.proconfig,
              has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
       FROM pg_proc p WHERE p.proname LIKE 'fifo\\_%' ORDER BY 1`,
    );
    const { rows: grants } = await admin.pool.query(
      `SELECT table_name, privilege_type FROM information_schema.role_table_grants
       WHERE grantee = 'fifo_ledger_capture' ORDER BY 1, 2`,
    );

    // Assess
    expect(rows.map((r) => r.proname)).toEqual([
      'fifo_capture_trade_delete',
      'fifo_capture_trade_insert',
      'fifo_capture_trade_update',
      'fifo_note_mirror_write',
    ]);
    for (const r of rows) {
      expect(r).toMatchObject({ owner: 'fifo_ledger_capture', public_execute: false });
      expect(r.proconfig).toEqual(['search_path=pg_catalog, pg_temp']);
    }
    expect(grants).toEqual([
      { table_name: 'fifo_mirror_writes', privilege_type: 'INSERT' },
      { table_name: 'fifo_trade_changes', privilege_type: 'INSERT' },
      { table_name: 'fifo_versions', privilege_type: 'SELECT' },
    ]);
  });
});
