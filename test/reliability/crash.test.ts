/**
 * Crash safety: `full` and `incremental` run in a child process that is SIGKILLed at many
 * points of a run on a realistic history (docs/reliability.md §2). After every kill:
 *   - the version holds either exactly what it held before the run or exactly the finished
 *     result (a run commits all of its work or none of it);
 *   - the killed run is not marked completed unless all of its work committed, and a run
 *     left 'running' is reported by health as abandoned;
 *   - the dead session's lock goes with it, so the next run is not blocked, completes, and
 *     leaves the version equal to a clean full rebuild of another version, without duplicates.
 *
 * Kill points: a seeded random delay from 0 to the measured run time after the job starts
 * (the child loads and connects beforehand, so the delay falls in the job itself), which
 * spreads the kills over reading, computing and writing. Committing is a short window, so a
 * few more kills target it: a deferred trigger in the test database (not in the product)
 * makes those runs' commits sleep, and the child is killed while its backend sleeps there.
 */
import { isDeepStrictEqual } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readHealth, runFullRebuild, runIncremental } from '../../shared/jobs/index.ts';
import { VERSIONED_TABLES } from '../../shared/legacy/versions.ts';
import { generateTrades, seededRandom } from '../../shared/sample/generator.ts';
import { insertTrades } from '../../shared/sample/load.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { resetTables, snapshotVersion } from '../support/fixtures.ts';
import { type JobMode, type JobProcess, spawnJob } from '../support/run-job.ts';

/**
 * Trades in the history: a run on them takes a few hundred milliseconds, long enough for
 * random delays to land in reading, computing and writing. Every round rebuilds them once or
 * twice (the reference, the repair), so this size sets the test's cost.
 */
const HISTORY_TRADES = 3_000;
const SYMBOLS = 4;
/** Kills at a random delay, per mode: enough to hit three phases of a run (docs/reliability.md §2). */
const RANDOM_KILLS = 20;
/** Kills during a (slowed) commit, per mode: half with the server checking for dead clients. */
const COMMIT_KILLS = 2;
/**
 * Random delays that land after the run finished do not count; this bounds the attempts. On
 * a loaded machine the calibrated run is slow and half the delays may land after the end.
 */
const MAX_ATTEMPTS = 90;
/** The shortest span the random delays are drawn from, however fast the runs turn out. */
const MIN_RUN_MS = 100;
/** Each mode's rounds take about 45 s alone on 2 cores, and longer beside other test files. */
const CRASH_TEST_TIMEOUT_MS = 300_000;
/** The version the killed runs build, and the one the clean reference rebuild uses. */
const VERSION = 1;
const REFERENCE = 99;
/** How long a killed client's backends may take to go away (and release the lock). */
const BACKEND_EXIT_MS = 10_000;

type Phase = 'starting' | 'reading' | 'computing' | 'writing' | 'committing' | 'finished';
type Snapshot = Awaited<ReturnType<typeof snapshotVersion>>;

interface KillReport {
  readonly round: number;
  readonly delayMs: number | 'commit';
  readonly phase: Phase;
  /** The killed run's log row: absent (killed before it wrote one), running, or completed. */
  readonly status: string;
  /** What the version held right after the kill. */
  readonly state: 'before' | 'finished';
  readonly backendExitMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The two modes, each on a database of its own: they run side by side, as most of their time
 * is spent waiting on child processes and the server.
 */
const MODES = [
  {
    mode: 'full' as const,
    seed: 71,
    title:
      'survives SIGKILL of a full rebuild at 20+ points: all or nothing, reported, and the next run repairs',
  },
  {
    mode: 'incremental' as const,
    seed: 72,
    title:
      'survives SIGKILL of an incremental run at 20+ points while the bot keeps trading, and the next run catches up',
  },
];

describe.each(MODES)(
  'crash safety of $mode runs (needs a server: child processes and several sessions)',
  { tags: 'server', concurrent: true },
  ({ mode, seed, title }) => {
    let db: TestDatabase;
    const spawned: JobProcess[] = [];

    beforeAll(async () => {
      db = await createTestDatabase({ max: 4 });
      // Test-only instrumentation: runs whose triggered_by starts with crash-commit- sleep in
      // their commit (a deferred constraint trigger fires at COMMIT), so a kill can land there.
      await db.pool.query(`
      CREATE FUNCTION crash_test_slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_sleep(0.3); RETURN NULL; END $$;
      CREATE CONSTRAINT TRIGGER crash_test_slow_commit AFTER UPDATE ON fifo_computation_log
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.triggered_by LIKE 'crash-commit-%')
        EXECUTE FUNCTION crash_test_slow_commit();`);
    });
    afterEach(() => {
      // A failed round leaves its child, or the next one waiting for its start: end them.
      for (const job of spawned.splice(0)) {
        if (job.child.exitCode === null && job.child.signalCode === null) job.child.kill('SIGKILL');
      }
    });
    afterAll(async () => {
      await db?.drop();
    });

    /** What the child's sessions are doing now, from the server's side. */
    async function phaseOf(app: string): Promise<Phase> {
      const { rows } = await db.pool.query<{
        state: string | null;
        wait_event: string | null;
        query: string;
      }>(
        `SELECT state, wait_event, left(ltrim(query), 60) AS query FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = $1`,
        [app],
      );
      if (rows.length === 0) return 'finished';
      const active = rows.filter((r) => r.state === 'active');
      const matches = (pattern: RegExp) => active.some((r) => pattern.test(r.query));
      if (active.some((r) => r.wait_event === 'PgSleep') || matches(/^COMMIT/i)) return 'committing';
      if (matches(/^(INSERT|UPDATE|DELETE|COPY\s+\w+\s*\()/i)) return 'writing';
      if (matches(/^(COPY\s*\(|FETCH|DECLARE|SELECT|WITH)/i)) return 'reading';
      if (rows.some((r) => r.state?.startsWith('idle in transaction'))) return 'computing';
      return 'starting';
    }

    /** Waits until the killed child's sessions are gone; returns how long that took. */
    async function waitForBackendsGone(app: string): Promise<number> {
      const started = Date.now();
      for (;;) {
        const { rows } = await db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`,
          [app],
        );
        if (rows[0]!.n === 0) return Date.now() - started;
        if (Date.now() - started > BACKEND_EXIT_MS) {
          throw new Error(`the killed job's sessions (${app}) still exist after ${BACKEND_EXIT_MS} ms`);
        }
        await sleep(5);
      }
    }

    /** Empties a version: its allocations, lots, progress, pending changes and registration. */
    async function wipeVersion(version: number): Promise<void> {
      for (const table of VERSIONED_TABLES) {
        await db.pool.query(`DELETE FROM ${table} WHERE allocation_version = $1`, [version]);
      }
    }

    /** The reference for the current trades; rebuilt only when the trades changed. */
    let reference: Snapshot | null = null;

    /** A clean full rebuild of the current trades into another, emptied, version. */
    async function cleanRebuild(): Promise<Snapshot> {
      if (reference) return reference;
      await wipeVersion(REFERENCE);
      const run = await runFullRebuild(db, { version: REFERENCE, triggeredBy: 'reference' });
      expect(run.status).toBe('completed');
      reference = await snapshotVersion(db.pool, REFERENCE);
      // Unregistered, so change capture does not write changes for it meanwhile.
      await db.pool.query('DELETE FROM fifo_versions WHERE allocation_version = $1', [REFERENCE]);
      return reference;
    }

    async function duplicates(version: number): Promise<{ allocations: number; lots: number }> {
      const { rows } = await db.pool.query<{ allocations: number; lots: number }>(
        `SELECT
         (SELECT count(*) - count(DISTINCT (sell_order_id, coalesce(buy_order_id, '')))
          FROM fifo_allocations WHERE allocation_version = $1)::int AS allocations,
         (SELECT count(*) - count(DISTINCT buy_order_id) FROM fifo_lots WHERE allocation_version = $1)::int AS lots`,
        [version],
      );
      return rows[0]!;
    }

    async function logRowOf(
      triggeredBy: string,
    ): Promise<{ id: string; status: string; error: string | null }> {
      const { rows } = await db.pool.query<{ id: string; status: string; error: string | null }>(
        `SELECT id::text, status, error_message AS error FROM fifo_computation_log WHERE triggered_by = $1`,
        [triggeredBy],
      );
      expect(rows.length).toBeLessThanOrEqual(1);
      return rows[0] ?? { id: '', status: 'absent', error: null };
    }

    /** The bot's activity between two runs: new fills, a late back-dated fill, a correction, a cancellation. */
    async function recordBotActivity(round: number, random: () => number): Promise<void> {
      reference = null;
      const { rows: last } = await db.pool.query<{ t: string }>(
        `SELECT to_char(max(order_time) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS t FROM trade_records`,
      );
      const fresh = [
        ...generateTrades({
          trades: 40,
          symbols: SYMBOLS,
          seed: 1_000 + round,
          start: new Date(Date.parse(last[0]!.t) + 60_000).toISOString(),
        }),
      ].map((t, k) => ({ ...t, order_id: `r${round}-new-${k}` }));
      await insertTrades(db.pool, fresh);
      const { rows: total } = await db.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM trade_records',
      );
      const pick = async () => {
        const { rows } = await db.pool.query<{ order_id: string; symbol: string; t: string }>(
          `SELECT order_id, symbol, order_time::text AS t FROM trade_records ORDER BY order_id OFFSET $1 LIMIT 1`,
          [Math.floor(random() * total[0]!.n)],
        );
        return rows[0]!;
      };
      // Late fills, dated somewhere in the history: their symbols replay from there.
      for (const k of [1, 2]) {
        const late = await pick();
        await db.pool.query(
          `INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, total_fees_usd, status, "trigger")
         SELECT $1, symbol, 'buy', order_time - interval '1 second', price, size / 3, 0.01, 'filled', '{}'::jsonb
         FROM trade_records WHERE order_id = $2`,
          [`r${round}-late-${k}`, late.order_id],
        );
      }
      const corrected = await pick();
      await db.pool.query(`UPDATE trade_records SET price = price * 1.01 WHERE order_id = $1`, [
        corrected.order_id,
      ]);
      const cancelled = await pick();
      await db.pool.query('DELETE FROM trade_records WHERE order_id = $1', [cancelled.order_id]);
    }

    /** Damage a full rebuild must repair: missing, altered and extra rows in the version. */
    async function tamper(round: number): Promise<void> {
      const params = [VERSION, round % 61];
      await db.pool.query(
        'DELETE FROM fifo_allocations WHERE allocation_version = $1 AND id % 61 = $2',
        params,
      );
      await db.pool.query(
        'UPDATE fifo_allocations SET pnl_usd = pnl_usd + 1 WHERE allocation_version = $1 AND id % 67 = $2',
        params,
      );
      await db.pool.query(
        'DELETE FROM fifo_lots WHERE allocation_version = $1 AND abs(hashtext(buy_order_id)) % 71 = $2',
        params,
      );
      // A slice of a sell that does not exist.
      const columns = `buy_order_id, symbol, allocated_size, buy_price, sell_price, buy_fees_per_unit, sell_fees_per_unit,
      cost_basis_usd, proceeds_usd, net_proceeds_usd, pnl_usd, buy_time, sell_time, allocation_version, notes`;
      await db.pool.query(
        `INSERT INTO fifo_allocations (sell_order_id, ${columns})
       SELECT 'ghost-' || $2, ${columns} FROM fifo_allocations WHERE allocation_version = $1 ORDER BY id LIMIT 1`,
        [VERSION, String(round)],
      );
    }

    /**
     * Prepares one round's work, kills a child run of `mode`, checks what the kill left, runs
     * the next run in this process and checks the result. Returns null when the child finished
     * before the kill (that round is not a kill point).
     */
    async function crashRound(
      mode: JobMode,
      round: number,
      child: JobProcess,
      triggeredBy: string,
      app: string,
      kill: { delayMs: number } | 'commit',
    ): Promise<KillReport | null> {
      // Prepare: the state before the run, and what a clean rebuild of the same trades gives.
      const before = await snapshotVersion(db.pool, VERSION);
      const reference = await cleanRebuild();
      const statusBefore = await readHealth(db.pool, VERSION);
      expect(statusBefore.abandonedRuns).toBe(0);

      // Act: start the job, kill it.
      await child.ready;
      child.start();
      let phase: Phase;
      if (kill === 'commit') {
        phase = 'starting';
        const deadline = Date.now() + 20_000;
        while (phase !== 'committing' && phase !== 'finished' && Date.now() < deadline) {
          await sleep(2);
          phase = await phaseOf(app);
        }
      } else {
        await sleep(kill.delayMs);
        phase = await phaseOf(app);
      }
      child.child.kill('SIGKILL');
      const exit = await child.exited;
      const backendExitMs = await waitForBackendsGone(app);
      if (exit.signal !== 'SIGKILL') {
        // It finished first: not a kill point, but it must have completed.
        expect(exit.code, exit.stderr).toBe(0);
        expect(isDeepStrictEqual(await snapshotVersion(db.pool, VERSION), reference)).toBe(true);
        return null;
      }

      // Assess the kill: all or nothing (4 symbols: an incremental run commits them in one
      // batch), and the log never claims what did not commit.
      const afterKill = await snapshotVersion(db.pool, VERSION);
      const state = isDeepStrictEqual(afterKill, reference)
        ? 'finished'
        : isDeepStrictEqual(afterKill, before)
          ? 'before'
          : null;
      expect(
        state,
        `round ${round}: the killed ${mode} run left a partial state (phase ${phase})`,
      ).not.toBeNull();
      const killed = await logRowOf(triggeredBy);
      if (killed.status === 'completed') expect(state).toBe('finished');
      else expect(['absent', 'running']).toContain(killed.status);
      const health = await readHealth(db.pool, VERSION);
      expect(health.runInProgress).toBe(false);
      expect(health.abandonedRuns).toBe(killed.status === 'running' ? 1 : 0);
      if (killed.status === 'running') expect(health.lastRun[mode]?.id).toBe(killed.id);
      // The captured changes are consumed in the same transaction as the work, or not at all.
      expect(health.pendingChanges).toBe(state === 'before' ? statusBefore.pendingChanges : 0);

      // Act: the next run, as the next schedule would start it.
      const next =
        mode === 'full'
          ? await runFullRebuild(db, { version: VERSION, triggeredBy: `next-${round}` })
          : await runIncremental(db, { version: VERSION, triggeredBy: `next-${round}` });

      // Assess the recovery.
      expect(next.status).toBe('completed');
      const recovered = await snapshotVersion(db.pool, VERSION);
      if (!isDeepStrictEqual(recovered, reference)) expect(recovered).toEqual(reference);
      expect(await duplicates(VERSION)).toEqual({ allocations: 0, lots: 0 });
      const healthAfter = await readHealth(db.pool, VERSION);
      expect(healthAfter.abandonedRuns).toBe(0);
      expect(healthAfter.pendingChanges).toBe(0);
      if (killed.status === 'running') {
        const marked = await logRowOf(triggeredBy);
        expect(marked.status).toBe('failed');
        expect(marked.error).toContain('abandoned');
      }
      return {
        round,
        delayMs: kill === 'commit' ? 'commit' : kill.delayMs,
        phase,
        status: killed.status,
        state: state!,
        backendExitMs,
      };
    }

    /** Starts a child ahead of time (loading tsx and the modules takes a few hundred ms). */
    function prepareChild(mode: JobMode, round: number, commit: boolean, checkDeadClients: boolean) {
      const triggeredBy = `crash-${commit ? 'commit-' : ''}${mode}-${round}`;
      const app = `fifo-crash-${mode}-${round}`;
      const child = spawnJob(mode, db.url, {
        version: VERSION,
        triggeredBy,
        app,
        wait: true,
        // The server notices a dead client only when it next talks to it, unless asked to poll.
        env: { PGOPTIONS: checkDeadClients ? '-c client_connection_check_interval=10ms' : '' },
      });
      spawned.push(child);
      return { child, triggeredBy, app };
    }

    /** Measures one undisturbed child run of the round's work, in ms from the job's start. */
    async function measureRun(mode: JobMode): Promise<number> {
      const child = spawnJob(mode, db.url, { version: VERSION, triggeredBy: 'calibration', wait: true });
      await child.ready;
      const started = Date.now();
      child.start();
      const exit = await child.exited;
      expect(exit.code, exit.stderr).toBe(0);
      expect(exit.result?.status).toBe('completed');
      return Date.now() - started;
    }

    async function crashMode(
      mode: JobMode,
      seed: number,
      prepareRound: (round: number, random: () => number) => Promise<void>,
    ): Promise<KillReport[]> {
      const random = seededRandom(seed);
      await resetTables(db.pool);
      reference = null;
      await insertTrades(db.pool, [...generateTrades({ trades: HISTORY_TRADES, symbols: SYMBOLS, seed })]);
      await runFullRebuild(db, { version: VERSION, triggeredBy: 'initial' });
      await prepareRound(0, random);
      // The calibration run may be slower than the runs after it (a loaded machine, a cold
      // cache): a delay that lets the run finish first shortens the next ones.
      let runMs = await measureRun(mode);
      const reports: KillReport[] = [];
      const plan = () => {
        if (randomKillPoints(reports) < RANDOM_KILLS) return { commit: false, checkDeadClients: false };
        const commitKills = reports.filter((r) => r.delayMs === 'commit').length;
        return commitKills < COMMIT_KILLS ? { commit: true, checkDeadClients: commitKills % 2 === 0 } : null;
      };
      let next = plan() && prepareChild(mode, 1, false, false);
      for (let round = 1; next && round <= MAX_ATTEMPTS; round++) {
        const current = next;
        const kind = plan()!;
        await prepareRound(round, random);
        const kill = kind.commit ? ('commit' as const) : { delayMs: Math.floor(random() * runMs) };
        // The next child loads while this round is checked.
        const report = await crashRound(mode, round, current.child, current.triggeredBy, current.app, kill);
        if (report) reports.push(report);
        else if (kill !== 'commit') runMs = Math.max(MIN_RUN_MS, Math.floor(runMs * 0.7));
        const following = plan();
        next = following && prepareChild(mode, round + 1, following.commit, following.checkDeadClients);
      }
      console.info(
        `${mode}: ${randomKillPoints(reports)} kills at random points and ${reports.length - randomKillPoints(reports)} more ` +
          `(at commit, or after the run had finished) over a ${runMs} ms run; phases ${JSON.stringify(countBy(reports, 'phase'))}; ` +
          `log ${JSON.stringify(countBy(reports, 'status'))}; state after the kill ${JSON.stringify(countBy(reports, 'state'))}; ` +
          `slowest session exit ${Math.max(...reports.map((r) => r.backendExitMs))} ms`,
      );
      return reports;
    }

    it(title, { timeout: CRASH_TEST_TIMEOUT_MS }, async () => {
      // Why, full: the nightly rebuild rewrites a whole version; a crash anywhere must neither lose
      // nor duplicate a row. Incremental: the 5-minute run dies with its Lambda (timeout, OOM,
      // redeploy); the next one must finish the work exactly once.
      // Prepare: a full rebuild's rounds alternate between a rebuild from nothing, repairing damage,
      // and consuming bot activity; before every incremental round the bot records new fills, a
      // late one, a correction and a cancellation.
      const rounds = async (round: number, random: () => number) => {
        const kind = mode === 'full' ? round % 3 : 2;
        if (kind === 0) await wipeVersion(VERSION);
        else if (kind === 1) await tamper(round);
        else await recordBotActivity(round, random);
      };

      // Act
      const reports = await crashMode(mode, seed, rounds);

      // Assess
      expect(randomKillPoints(reports)).toBeGreaterThanOrEqual(RANDOM_KILLS);
      expect(reports.filter((r) => r.delayMs === 'commit').length).toBe(COMMIT_KILLS);
      expect(reports.filter((r) => r.delayMs === 'commit').every((r) => r.phase === 'committing')).toBe(true);
      expect(phasesHit(reports)).toBeGreaterThanOrEqual(3);
      expect(reports.some((r) => r.status === 'running')).toBe(true);
    });
  },
);

/** Kills at a random delay that hit the run itself (not the process's exit after it finished). */
const randomKillPoints = (reports: readonly KillReport[]) =>
  reports.filter((r) => r.delayMs !== 'commit' && r.phase !== 'finished').length;

/** Distinct phases of a run the kills landed in. */
const phasesHit = (reports: readonly KillReport[]) =>
  new Set(reports.map((r) => r.phase).filter((p) => p !== 'starting' && p !== 'finished')).size;

function countBy<T>(items: readonly T[], key: keyof T): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[String(item[key])] = (counts[String(item[key])] ?? 0) + 1;
  return counts;
}
