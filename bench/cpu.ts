/**
 * CPU time per process, read from /proc: the rebuild's own process and the PostgreSQL
 * backends that serve it, so the benchmark can show what bounds a run (docs/performance.md,
 * "Why (b) is not met", reads these figures). Used by bench/main.ts and bench/profile-child.ts.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';

/** Clock ticks per second of utime and stime in /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds of a local process (all its threads), or null when /proc cannot tell. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name, field 2, is in parentheses and may hold spaces: split after it.
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat; fields[0] here is field 3.
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** What a backend did for the run, from the statements it was seen running. */
export type BackendRole = 'reader' | 'writer' | 'parallel worker' | 'other';

export interface BackendCpu {
  readonly pid: number;
  readonly role: BackendRole;
  /** CPU seconds at the last sample; null when the server is not on this machine. */
  readonly cpu_s: number | null;
}

const RANK: Record<BackendRole, number> = { other: 0, writer: 1, reader: 2, 'parallel worker': 3 };

function roleOf(backendType: string, query: string): BackendRole {
  if (backendType === 'parallel worker') return 'parallel worker';
  // The rebuild's reader streams the trades out (shared/db/copy-stream.ts); its writer
  // copies rows in and runs the UPDATE of remaining_size and the index builds.
  if (/\bTO STDOUT\b/i.test(query)) return 'reader';
  if (/^\s*(COPY\b[\s\S]*\bFROM STDIN|INSERT|UPDATE|DELETE|CREATE\s+(UNIQUE\s+)?INDEX)/i.test(query))
    return 'writer';
  return 'other';
}

/**
 * Samples, every `intervalMs`, the backends connected to one database (pg_stat_activity) and
 * their CPU time (/proc/<pid>/stat), keeping the last reading per pid: a backend's CPU since
 * it started, up to one interval before it ended. Start it before the job, stop it after.
 */
export class BackendSampler {
  private readonly seen = new Map<number, { role: BackendRole; cpu: number | null }>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  private constructor(
    private readonly client: pg.Client,
    private readonly database: string,
  ) {}

  static async start(serverUrl: string, database: string, intervalMs = 100): Promise<BackendSampler> {
    const client = new pg.Client({ connectionString: serverUrl, application_name: 'fifo-bench-sampler' });
    await client.connect();
    const sampler = new BackendSampler(client, database);
    await sampler.sample();
    const tick = () => {
      if (sampler.stopped) return;
      sampler.running = sampler.sample().finally(() => {
        if (!sampler.stopped) sampler.timer = setTimeout(tick, intervalMs);
      });
    };
    sampler.timer = setTimeout(tick, intervalMs);
    return sampler;
  }

  private async sample(): Promise<void> {
    const { rows } = await this.client.query<{ pid: number; backend_type: string; query: string | null }>(
      `SELECT pid, backend_type, query FROM pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [this.database],
    );
    for (const row of rows) {
      const cpu = processCpuSeconds(row.pid);
      const before = this.seen.get(row.pid);
      const role = roleOf(row.backend_type, row.query ?? '');
      this.seen.set(row.pid, {
        role: before && RANK[before.role] >= RANK[role] ? before.role : role,
        cpu: cpu ?? before?.cpu ?? null,
      });
    }
  }

  /** Takes a last sample, stops, and returns every backend seen with its last CPU reading. */
  async stop(): Promise<BackendCpu[]> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running.catch(() => {});
    await this.sample().catch(() => {});
    await this.client.end();
    return [...this.seen].map(([pid, { role, cpu }]) => ({ pid, role, cpu_s: cpu }));
  }
}

/** CPU seconds summed by role. */
export function cpuByRole(backends: readonly BackendCpu[]): Record<BackendRole, number> {
  const sums: Record<BackendRole, number> = { reader: 0, writer: 0, 'parallel worker': 0, other: 0 };
  for (const b of backends) sums[b.role] += b.cpu_s ?? 0;
  return sums;
}
