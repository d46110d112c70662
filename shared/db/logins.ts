/**
 * The functions' database logins. Migrations create the NOLOGIN roles that hold the privileges
 * (fifo_ledger_writer in 0005, fifo_ledger_reader in 0009); this module makes the LOGIN roles the
 * functions connect as, each a member of one of them, with the password of its secret:
 *
 * - the job login (incremental, full rebuild): member of fifo_ledger_writer;
 * - the report login: member of fifo_ledger_reader.
 *
 * It runs as the owner (the user that applied the migrations), after them, on every deploy:
 * CREATE ROLE when the login is missing, else ALTER ROLE with the secret's current password;
 * GRANT its role; REVOKE the other fifo-ledger role. All in one transaction, so a failure
 * changes nothing.
 *
 * The password never travels in clear: the statement carries a SCRAM-SHA-256 verifier computed
 * here (what psql's \password sends), so a server that logs statements (log_statement = ddl, an
 * error's STATEMENT line, pgaudit) records no password. PostgreSQL stores a verifier as given.
 *
 * It refuses to touch a role that is not a plain login: the session's own user (the owner), a
 * role with SUPERUSER, CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS or a member of one, a
 * member of a predefined pg_* role or rds_superuser, or a role that owns anything (in any
 * database of the cluster). A misnamed secret then fails the deploy instead of changing the
 * password of the bot's user.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type pg from 'pg';

/** The NOLOGIN role of the jobs (migrations/0005_job-role.sql, 0009_security.sql). */
export const WRITER_ROLE = 'fifo_ledger_writer';
/** The NOLOGIN role of the report (migrations/0009_security.sql). */
export const READER_ROLE = 'fifo_ledger_reader';
/** Roles the migrations create; never a login's name. */
const MIGRATION_ROLES = [WRITER_ROLE, READER_ROLE, 'fifo_ledger_capture'];

/**
 * Environment variables of the migrate function: the ARNs of the login secrets whose logins it
 * provisions (FIFO_DB_SECRET_ARN is the owner's). Plain data: lib/ imports it at synth time.
 */
export const LOGIN_SECRET_ENV = {
  /** The job login's secret (incremental and full rebuild read it as their FIFO_DB_SECRET_ARN). */
  job: 'FIFO_DB_JOB_SECRET_ARN',
  /** The report login's secret (the report function reads it as its FIFO_DB_SECRET_ARN). */
  report: 'FIFO_DB_REPORT_SECRET_ARN',
} as const;

/** PostgreSQL's default, and what its own clients use. */
const SCRAM_ITERATIONS = 4096;
/** NAMEDATALEN - 1. */
const MAX_NAME_BYTES = 63;

export type LoginRole = typeof WRITER_ROLE | typeof READER_ROLE;

export interface LoginSpec {
  /** The login's name: the secret's `username`. */
  readonly username: string;
  /** The secret's `password`. */
  readonly password: string;
  /** The NOLOGIN role whose privileges the login gets. */
  readonly role: LoginRole;
}

export interface LoginResult {
  readonly username: string;
  readonly role: LoginRole;
  readonly action: 'created' | 'updated';
  /**
   * The login may create objects in schema public: PostgreSQL before 15 grants CREATE on it to
   * PUBLIC. Only a REVOKE CREATE ON SCHEMA public FROM PUBLIC (the operator's decision: the bot's
   * users may rely on it) takes that away.
   */
  readonly canCreateInPublic: boolean;
}

export class LoginProvisioningError extends Error {
  override name = 'LoginProvisioningError';
}

/**
 * Creates or updates the logins, grants each its role, in one transaction.
 * @param client a connection as the owner (it needs CREATEROLE and ADMIN OPTION on the roles)
 * @throws LoginProvisioningError when a name is unusable or names a role that is not a plain login
 */
export async function provisionLogins(
  client: pg.ClientBase,
  logins: readonly LoginSpec[],
): Promise<LoginResult[]> {
  validateSpecs(logins);
  await client.query('BEGIN');
  try {
    const results: LoginResult[] = [];
    for (const login of logins) results.push(await provisionLogin(client, login));
    await client.query('COMMIT');
    return results;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

function validateSpecs(logins: readonly LoginSpec[]): void {
  const seen = new Set<string>();
  for (const { username, password, role } of logins) {
    if (username.length === 0) throw new LoginProvisioningError('a login secret has an empty username');
    if (Buffer.byteLength(username, 'utf8') > MAX_NAME_BYTES) {
      throw new LoginProvisioningError(`login "${username}" is longer than ${MAX_NAME_BYTES} bytes`);
    }
    if (/^pg_/i.test(username) || MIGRATION_ROLES.includes(username)) {
      throw new LoginProvisioningError(
        `login "${username}" is a reserved role name; choose another username`,
      );
    }
    if (password.length === 0) throw new LoginProvisioningError(`login "${username}" has an empty password`);
    if (role !== WRITER_ROLE && role !== READER_ROLE) {
      throw new LoginProvisioningError(`login "${username}": unknown role "${role}"`);
    }
    if (seen.has(username)) {
      throw new LoginProvisioningError(`login "${username}" is named by two secrets; each needs its own`);
    }
    seen.add(username);
  }
}

interface ExistingRole {
  readonly privileged: string[];
  readonly owns: boolean;
  readonly memberOf: string[];
}

async function provisionLogin(client: pg.ClientBase, login: LoginSpec): Promise<LoginResult> {
  const name = client.escapeIdentifier(login.username);
  const { rows: session } = await client.query<{ current_user: string; session_user: string }>(
    'SELECT current_user, session_user',
  );
  if (login.username === session[0]!.current_user || login.username === session[0]!.session_user) {
    throw new LoginProvisioningError(
      `login "${login.username}" is the user running the migrations (the owner); a login secret must name its own user`,
    );
  }
  const existing = await describeRole(client, login.username);
  if (existing) refuseUnlessPlainLogin(login.username, existing);
  const verifier = client.escapeLiteral(scramVerifier(login.password));
  await client.query(
    existing
      ? `ALTER ROLE ${name} WITH LOGIN INHERIT PASSWORD ${verifier}`
      : `CREATE ROLE ${name} WITH LOGIN INHERIT PASSWORD ${verifier}`,
  );
  await client.query(`GRANT ${client.escapeIdentifier(login.role)} TO ${name}`);
  const other = login.role === WRITER_ROLE ? READER_ROLE : WRITER_ROLE;
  if (existing?.memberOf.includes(other)) {
    await client.query(`REVOKE ${client.escapeIdentifier(other)} FROM ${name}`);
  }
  const { rows } = await client.query<{ can_create: boolean }>(
    `SELECT coalesce(to_regnamespace('public') IS NOT NULL
                     AND has_schema_privilege($1, 'public', 'CREATE'), false) AS can_create`,
    [login.username],
  );
  return {
    username: login.username,
    role: login.role,
    action: existing ? 'updated' : 'created',
    canCreateInPublic: rows[0]!.can_create,
  };
}

async function describeRole(client: pg.ClientBase, username: string): Promise<ExistingRole | undefined> {
  const { rows } = await client.query<{
    found: boolean;
    privileged: string[];
    owns: boolean;
    member_of: string[];
  }>(
    `WITH RECURSIVE target AS (
       SELECT oid FROM pg_roles WHERE rolname = $1
     ), granted(roleid) AS (
       SELECT m.roleid FROM pg_auth_members m JOIN target t ON m.member = t.oid
       UNION
       SELECT m.roleid FROM pg_auth_members m JOIN granted g ON m.member = g.roleid
     ), chain AS (
       SELECT r.* FROM pg_roles r JOIN target t ON r.oid = t.oid
       UNION ALL
       SELECT r.* FROM pg_roles r JOIN granted g ON r.oid = g.roleid
     )
     SELECT EXISTS (SELECT 1 FROM target) AS found,
       coalesce((SELECT array_agg(DISTINCT format('%s (%s)', c.rolname, a.attr) ORDER BY format('%s (%s)', c.rolname, a.attr))
         FROM chain c
         CROSS JOIN LATERAL (VALUES
           ('SUPERUSER', c.rolsuper), ('CREATEROLE', c.rolcreaterole), ('CREATEDB', c.rolcreatedb),
           ('REPLICATION', c.rolreplication), ('BYPASSRLS', c.rolbypassrls),
           ('a predefined role', c.rolname ~ '^pg_' OR c.rolname = 'rds_superuser')) AS a(attr, held)
         WHERE a.held), '{}') AS privileged,
       EXISTS (SELECT 1 FROM pg_shdepend d JOIN target t ON d.refobjid = t.oid
               WHERE d.refclassid = 'pg_authid'::regclass AND d.deptype = 'o') AS owns,
       coalesce((SELECT array_agg(r.rolname::text ORDER BY r.rolname)
         FROM pg_auth_members m JOIN target t ON m.member = t.oid JOIN pg_roles r ON r.oid = m.roleid), '{}') AS member_of`,
    [username],
  );
  const row = rows[0]!;
  if (!row.found) return undefined;
  return { privileged: row.privileged, owns: row.owns, memberOf: row.member_of };
}

function refuseUnlessPlainLogin(username: string, role: ExistingRole): void {
  if (role.privileged.length > 0) {
    throw new LoginProvisioningError(
      `refusing to manage "${username}": it has or inherits ${role.privileged.join(', ')}; ` +
        'a login secret must name a plain login, not an administrator',
    );
  }
  if (role.owns) {
    throw new LoginProvisioningError(
      `refusing to manage "${username}": it owns database objects, so it is not a login fifo-ledger made; ` +
        'give the secret a username of its own',
    );
  }
}

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802, RFC 7677), in its
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` form.
 */
export function scramVerifier(
  password: string,
  salt: Buffer = randomBytes(16),
  iterations = SCRAM_ITERATIONS,
): string {
  const salted = pbkdf2Sync(saslprep(password), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/**
 * The SASLprep mappings that change a password's bytes (RFC 4013: non-ASCII spaces to a space,
 * "commonly mapped to nothing" removed, NFKC), as the pg driver applies them when it logs in.
 * Generated passwords are printable ASCII, which this leaves as they are.
 */
function saslprep(password: string): string {
  return (
    password
      .replace(/[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g, ' ')
      // biome-ignore lint/suspicious/noMisleadingCharacterClass: RFC 3454 Table B.1 lists combining characters to remove one by one
      .replace(/[\u00AD\u034F\u1806\u180B-\u180D\u200C\u200D\u2060\uFE00-\uFE0F\uFEFF]/gu, '')
      .normalize('NFKC')
  );
}
