#!/usr/bin/env node
/**
 * Builds the `fifo` CLI once, at install (`npm ci` runs the `prepare` script), so that it starts
 * without transpiling TypeScript: one esbuild bundle of bin/cli/main.ts in dist/cli/, split
 * where a command loads its code on first use (`await import(...)`), so `fifo --help` loads
 * neither pg, node-pg-migrate, zod nor the AWS SDK.
 *
 *   node bin/build.mjs [--outdir DIR]      # default dist/cli
 *
 * bin/fifo.js starts the bundle while it is newer than every source it was built from (the
 * list is in DIR/manifest.json), else the sources through tsx. The bundle sits two folders
 * below the repository, like bin/cli/main.ts, so the paths the sources derive from
 * import.meta.url (../../migrations) hold in both. PGlite stays outside: it loads its
 * WebAssembly and data files from beside its own module.
 *
 * Without esbuild (an install that left out the devDependencies) it builds nothing and says
 * so: the CLI then runs from its sources.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_OUTDIR = join(REPO, 'dist', 'cli');

/** Packages left outside the bundle, resolved from node_modules at run time. */
const EXTERNAL = ['@electric-sql/pglite', '@electric-sql/pglite-socket', 'pg-native'];

/**
 * Packages that do nothing when imported but define things: declared free of side effects so
 * that a chunk importing one binding it never calls (schema-state.ts's migrationsDir beside
 * migrate.ts's runner, pool.ts's redactSecrets beside pg) does not load the whole package.
 */
const PURE_PACKAGES = /^(node-pg-migrate|pg|pg-copy-streams|zod|decimal\.js|csv-parse|csv-stringify)(\/|$)/;

const pureImports = {
  name: 'pure-imports',
  setup(build) {
    build.onResolve({ filter: PURE_PACKAGES }, async (args) => {
      if (args.pluginData?.pure) return undefined;
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: { pure: true },
      });
      return resolved.errors.length > 0 ? undefined : { ...resolved, sideEffects: false };
    });
  },
};

/**
 * Builds into `outdir` (replaced as a whole, so a concurrent start sees the old build or the
 * new one, or none) and returns the manifest.
 */
export async function buildCli({ outdir = DEFAULT_OUTDIR } = {}) {
  const esbuild = await import('esbuild');
  // Taken before any source is read: a file saved during the build counts as newer.
  const builtAtMs = Date.now();
  const staging = `${outdir}.tmp-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: REPO,
    // The partition worker is a thread's entry of its own (shared/jobs/partitions/threads.ts
    // looks for it beside the chunk that starts it).
    entryPoints: { main: 'bin/cli/main.ts', 'partition-worker': 'shared/jobs/partitions/worker.ts' },
    outdir: staging,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outExtension: { '.js': '.mjs' },
    chunkNames: '[name]-[hash]',
    external: EXTERNAL,
    plugins: [pureImports],
    // CommonJS packages in an ES module bundle still call require() for Node's built-ins.
    banner: {
      js: "import { createRequire as __fifoCreateRequire } from 'node:module'; const require = __fifoCreateRequire(import.meta.url);",
    },
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
  });
  const inputs = Object.keys(result.metafile.inputs)
    .filter((input) => !input.startsWith('node_modules/') && !input.includes('(disabled)'))
    .sort();
  const manifest = { built_at_ms: builtAtMs, entry: 'main.mjs', inputs: [...inputs, 'package.json'] };
  await writeFile(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await rm(outdir, { recursive: true, force: true });
  await rename(staging, outdir);
  return manifest;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const at = process.argv.indexOf('--outdir');
  const outdir = at > 0 ? resolve(process.argv[at + 1] ?? '') : DEFAULT_OUTDIR;
  try {
    await import('esbuild');
  } catch {
    process.stderr.write('fifo build: esbuild is not installed; the fifo CLI will run from its sources\n');
    process.exit(0);
  }
  const started = Date.now();
  const manifest = await buildCli({ outdir });
  process.stderr.write(
    `fifo build: ${relative(process.cwd(), join(outdir, manifest.entry)) || manifest.entry} from ` +
      `${manifest.inputs.length} sources in ${Date.now() - started} ms\n`,
  );
}
