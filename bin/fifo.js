#!/usr/bin/env node
// The `fifo` command. `npm ci` builds it once into dist/cli (bin/build.mjs, the `prepare`
// script): that bundle starts in a fraction of the time tsx takes to transpile the sources.
// It is used while it is newer than every source it was built from; after an edit (or with no
// build, or FIFO_CLI_SOURCES=1) the TypeScript sources run through tsx, so the command never
// runs stale code. `npm run build` brings the fast start back.
import { readFileSync, statSync } from 'node:fs';

const dist = new URL('../dist/cli/', import.meta.url);
const root = new URL('../', import.meta.url);

function builtEntry() {
  if (process.env.FIFO_CLI_SOURCES === '1') return null;
  try {
    const manifest = JSON.parse(readFileSync(new URL('manifest.json', dist), 'utf8'));
    for (const input of manifest.inputs) {
      if (statSync(new URL(input, root)).mtimeMs > manifest.built_at_ms) return null;
    }
    return new URL(manifest.entry, dist).href;
  } catch {
    return null;
  }
}

const entry = builtEntry();
if (entry) {
  await import(entry);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./cli/main.ts');
}
