/**
 * The CLI built at install: bin/build.mjs bundles it, the bundle prints what
 * the sources print, byte for byte, and bin/fifo.js runs the sources whenever one of them is
 * newer than the bundle, so a stale bundle never runs.
 */
import { copyFile, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module without types (it must run before anything is built).
import { buildCli } from '../../bin/build.mjs';
import packageJson from '../../package.json' with { type: 'json' };
import { type CliRun, fifo, repo } from './support.ts';

let outdir: string;
let work: string;
let manifest: { built_at_ms: number; entry: string; inputs: string[] };
const built = (args: string[], env: Record<string, string> = {}) =>
  fifo(args, env, [join(outdir, 'main.mjs')]);
const sources = (args: string[], env: Record<string, string> = {}) =>
  fifo(args, env, ['--import', 'tsx', 'bin/cli/main.ts']);

beforeAll(async () => {
  // Two folders below the repository, as dist/cli is: the sources find ../../migrations there.
  outdir = join(repo, '.scratch', `cli-build-${process.pid}`);
  work = await mkdtemp(join(tmpdir(), 'fifo-build-'));
  manifest = await buildCli({ outdir });
  await writeFile(join(work, 'empty.json'), '');
}, 120_000);
afterAll(async () => {
  await rm(outdir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

describe('the built CLI', () => {
  it('lists every source it was built from, and the package version', () => {
    // Why: bin/fifo.js decides from this list whether the bundle is current.
    // Assess
    expect(manifest.entry).toBe('main.mjs');
    expect(manifest.inputs).toEqual(
      expect.arrayContaining(['bin/cli/main.ts', 'bin/cli/terminal.ts', 'package.json']),
    );
    expect(manifest.inputs.some((input) => input.startsWith('node_modules/'))).toBe(false);
  });

  const cases: [string, string[], Record<string, string>][] = [
    ['--help', ['--help'], {}],
    ['--version', ['--version'], {}],
    ['replay --help', ['replay', '--help'], {}],
    ['health --help', ['health', '--help'], {}],
    ['replay csv', ['replay', 'examples/trades.csv', '--format', 'csv'], {}],
    ['replay json', ['replay', 'examples/trades.csv'], {}],
    ['an empty file', ['replay', 'EMPTY'], {}],
    ['a bad DATABASE_URL', ['health'], { DATABASE_URL: 'not a url' }],
    // Control characters from the data are escaped by terminalSafe in the bundle too.
    [
      'a hostile argument',
      ['explain', 'x\u001b[31m'],
      { DATABASE_URL: 'postgres://u:secret@127.0.0.1:1/db' },
    ],
  ];
  it.each(cases)('prints what the sources print: %s', async (_name, args, env) => {
    // Why: the bundle is what operators run; it must be the sources' behaviour, not a copy of it.
    // Prepare
    const argv = args.map((a) => (a === 'EMPTY' ? join(work, 'empty.json') : a));

    // Act
    const [fromBundle, fromSources] = await Promise.all([built(argv, env), sources(argv, env)]);

    // Assess
    expect(fromBundle).toEqual(fromSources);
    expect(fromBundle.stdout + fromBundle.stderr).not.toContain('\u001b');
  });

  it('migrates an embedded database from the bundle: the migrations are found beside it', async () => {
    // Why: the sources find migrations/ relative to their own file; the bundle must too.
    // Prepare
    const env = { FIFO_EMBEDDED_DIR: join(work, 'embedded') };

    // Act
    const run = await built(['migrate'], env);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    // The embedded database is migrated as it opens: every shipped migration was found and applied.
    expect(run.stdout).toBe('schema is up to date\n');
  });

  it('prints the version of package.json', async () => {
    // Why: `fifo --version` is how an operator says which fifo-ledger answered.
    // Act
    const runs: CliRun[] = await Promise.all([built(['--version']), built(['-V'])]);

    // Assess
    for (const run of runs) expect(run).toEqual({ code: 0, stdout: `${packageJson.version}\n`, stderr: '' });
  });
});

describe('bin/fifo.js', () => {
  it('starts the bundle while it is current, else the sources', async () => {
    // Why: a developer who edits a file and runs `npx fifo` must run the edit, with no build step;
    // an operator after `npm ci` must get the fast start.
    // Prepare: a copy of bin/fifo.js beside a stand-in bundle and stand-in sources
    const root = join(repo, '.scratch', `fifo-js-${process.pid}`);
    await mkdir(join(root, 'bin', 'cli'), { recursive: true });
    await mkdir(join(root, 'dist', 'cli'), { recursive: true });
    await copyFile(join(repo, 'bin', 'fifo.js'), join(root, 'bin', 'fifo.js'));
    const source = join(root, 'bin', 'cli', 'main.ts');
    await writeFile(source, "process.stdout.write('sources\\n');\n");
    await writeFile(join(root, 'dist', 'cli', 'main.mjs'), "process.stdout.write('bundle\\n');\n");
    const builtAt = Date.now();
    await writeFile(
      join(root, 'dist', 'cli', 'manifest.json'),
      JSON.stringify({ built_at_ms: builtAt, entry: 'main.mjs', inputs: ['bin/cli/main.ts'] }),
    );
    const which = async (env: Record<string, string> = {}) =>
      (await fifo([], env, [join(root, 'bin', 'fifo.js')])).stdout.trim();

    try {
      // Act
      const older = new Date(builtAt - 60_000);
      await utimes(source, older, older);
      const current = await which();
      const forced = await which({ FIFO_CLI_SOURCES: '1' });
      const newer = new Date(builtAt + 60_000);
      await utimes(source, newer, newer);
      const stale = await which();
      await rm(join(root, 'dist'), { recursive: true });
      const unbuilt = await which();

      // Assess
      expect({ current, forced, stale, unbuilt }).toEqual({
        current: 'bundle',
        forced: 'sources',
        stale: 'sources',
        unbuilt: 'sources',
      });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
