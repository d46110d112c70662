/**
 * A copy of a loaded benchmark database for one run, so every full rebuild from empty (one per
 * partition count K) starts from the same files: trade_records as the load left it, the fifo_*
 * tables empty and remaining_size not yet written. Dropped afterwards.
 */
import pg from 'pg';
import { openBenchPool } from './fresh-database.ts';

/**
 * Runs `work` against `<template>_<suffix>`, created from `template` (which must be a database
 * the caller no longer uses: its connections are ended first) and dropped at the end.
 */
export async function withClone<T>(
  serverUrl: string,
  template: string,
  suffix: string,
  work: (url: string, pool: pg.Pool, name: string) => Promise<T>,
): Promise<T> {
  const name = `${template}_${suffix}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    // A template must have no other sessions; the caller's pool may hold idle ones.
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [
      template,
    ]);
    // FILE_COPY: a checkpoint and a copy of the files, not every block through the WAL.
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template} STRATEGY FILE_COPY`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    const pool = openBenchPool(url.toString());
    try {
      return await work(url.toString(), pool, name);
    } finally {
      await pool.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}
