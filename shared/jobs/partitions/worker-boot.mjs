// Starts a partition worker from the TypeScript sources (the development path): the bundle
// built at install has its own entry, dist/cli/partition-worker.mjs (bin/build.mjs).
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.entry, import.meta.url);
