/**
 * `fifo demo` (npm start): the main job end to end on a generated sample. With no
 * DATABASE_URL it runs on an in-memory embedded PostgreSQL, so it needs no server.
 */
import type pg from 'pg';
import { migrate } from '../../shared/db/migrate.ts';
import { withConnection } from '../../shared/db/pool.ts';
import { runFullRebuild, runIncremental } from '../../shared/jobs/index.ts';
import { DEFAULT_SETTINGS, runDailyReport } from '../../shared/report/index.ts';
import { generateTrades, type SampleTrade } from '../../shared/sample/generator.ts';
import { insertTrades, SAMPLE_MARKER } from '../../shared/sample/load.ts';
import { loadSampleReportInputs } from '../../shared/sample/report-inputs.ts';
import { withDatabase } from './database.ts';
import { CliError } from './errors.ts';
import { driftText, healthText, quietLogger, readHealthView } from './jobs.ts';
import { cliVersion, usdText } from './options.ts';
import { writeReportFiles } from './report.ts';

/** Sample rows carry ingest_via 'sample' (shared/sample/load.ts): their source is the bot's. */
const SAMPLE_SOURCE = SAMPLE_MARKER;

export interface DemoOptions {
  readonly trades: number;
  readonly symbols: number;
  readonly seed: number;
}

/**
 * Checked before anything is written, migrations included: the demo runs only on an empty
 * database or on one that holds nothing but its own samples, never on the bot's.
 */
async function ensureSafeToRun(client: pg.Pool): Promise<void> {
  const { rows } = await client.query<{ trades: boolean; ours: boolean; source: boolean }>(
    `SELECT to_regclass('trade_records') IS NOT NULL AS trades,
            to_regclass('fifo_ledger_migrations') IS NOT NULL AS ours,
            EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('trade_records')
                    AND attname = 'ingest_via' AND NOT attisdropped) AS source`,
  );
  const state = rows[0]!;
  if (!state.trades) return;
  const refuse = (why: string) =>
    new CliError(
      `${why}; the demo only runs on an empty database and changed nothing. Unset DATABASE_URL to use the ` +
        'embedded one, or point it at an empty database.',
    );
  if (!state.ours) throw refuse('this database has a trade_records table that fifo-ledger did not create');
  const { rows: foreign } = await client.query<{ n: string }>(
    state.source
      ? 'SELECT count(*)::text AS n FROM trade_records WHERE ingest_via IS DISTINCT FROM $1'
      : 'SELECT count(*)::text AS n FROM trade_records WHERE $1::text IS NOT NULL',
    [SAMPLE_SOURCE],
  );
  if (foreign[0]!.n !== '0') {
    throw refuse(`the database already holds ${foreign[0]!.n} trades that are not demo samples`);
  }
}

export async function runDemo(options: DemoOptions, out: (line: string) => void): Promise<void> {
  await withDatabase(
    async (db) => {
      const version = cliVersion(undefined);
      // Every statement through the pool: the embedded database has a single connection,
      // which the jobs need too.
      const client = db.pool;
      {
        out(`database: ${db.description}`);
        await ensureSafeToRun(client);
        const { applied } = await withConnection(db, migrate);
        out(`migrate: ${applied.length ? `applied ${applied.length} migrations` : 'schema up to date'}`);
        await client.query('DELETE FROM trade_records WHERE ingest_via = $1', [SAMPLE_SOURCE]);

        const all = [
          // With the market maker's near-instant roundtrips, for the report's roundtrip section.
          ...generateTrades({
            trades: options.trades,
            symbols: options.symbols,
            seed: options.seed,
            roundtripRate: 0.25,
          }),
        ];
        const first = all.slice(0, all.length - 200);
        const later = all.slice(all.length - 200);
        await insertTrades(client, first);
        out(`loaded ${first.length} trades over ${options.symbols} symbols into trade_records`);

        const full = await runFullRebuild(db, { version, triggeredBy: 'demo', logger: quietLogger });
        out(
          `full rebuild: ${full.trades} trades -> ${full.allocations} allocations, realized PnL ${usdText(full.realizedPnlUsd)} USD ` +
            `in ${full.durationMs} ms`,
        );

        // What the bot does between two runs: new fills, a late back-dated fill, a reconcile
        // pass that corrects a fill, and a cancelled order deleted.
        await insertTrades(client, later);
        const middle = first[Math.floor(first.length / 2)]!;
        const lateBuy: SampleTrade = {
          ...middle,
          order_id: 'late-backdated-buy-0001',
          side: 'buy',
          order_time: new Date(Date.parse(middle.order_time) - 1000).toISOString(),
        };
        await insertTrades(client, [lateBuy]);
        const corrected = first.find((t, i) => i > first.length / 3 && t.side === 'sell')!;
        await client.query('UPDATE trade_records SET price = price * 1.01 WHERE order_id = $1', [
          corrected.order_id,
        ]);
        const cancelled = first.find((t, i) => i > (first.length * 2) / 3 && t.side === 'buy')!;
        await client.query('DELETE FROM trade_records WHERE order_id = $1', [cancelled.order_id]);
        out(
          `then: ${later.length} new trades, 1 late back-dated buy (${lateBuy.symbol} at ${lateBuy.order_time}), ` +
            `1 corrected sell (${corrected.order_id}), 1 cancelled buy (${cancelled.order_id})`,
        );

        const incremental = await runIncremental(db, { version, triggeredBy: 'demo', logger: quietLogger });
        out(
          `incremental: ${incremental.changesConsumed} changes, ${incremental.tradesProcessed} trades processed, ` +
            `${incremental.symbolsAppended} symbols appended, ${incremental.symbolsReplayed} replayed in ${incremental.durationMs} ms`,
        );

        const check = await runFullRebuild(db, { version, dryRun: true, triggeredBy: 'demo' });
        out(
          check.drift.rows === 0
            ? 'proof: a full rebuild (dry run) finds 0 drift, so the incremental state equals a rebuild'
            : `WARNING: a full rebuild finds drift: ${driftText(
                check.drift.rowsAdded + check.drift.rowsRemoved + check.drift.rowsChanged,
                check.drift.lotRows,
                check.drift.usd,
              )}`,
        );

        const { rows: pnl } = await client.query<{ symbol: string; sells: string; pnl: string }>(
          `SELECT symbol, count(DISTINCT sell_order_id)::text AS sells,
                  to_char(coalesce(sum(pnl_usd), 0), 'FM999999999990.00') AS pnl
           FROM fifo_allocations WHERE allocation_version = $1 GROUP BY symbol ORDER BY sum(pnl_usd) DESC NULLS LAST`,
          [version],
        );
        out('\nrealized PnL by symbol (USD):');
        for (const row of pnl)
          out(`  ${row.symbol.padEnd(10)} ${row.pnl.padStart(14)}  (${row.sells} sells)`);
        const { rows: unmatched } = await client.query<{
          sell_order_id: string;
          symbol: string;
          size: string;
        }>(
          `SELECT sell_order_id, symbol, trim_scale(allocated_size)::text AS size FROM fifo_allocations
           WHERE allocation_version = $1 AND buy_order_id IS NULL ORDER BY sell_time LIMIT 5`,
          [version],
        );
        // The demo says it is on the embedded database at its top: no note in the verdict.
        const view = await readHealthView(db, version, { noteEmbedded: false });
        out(
          `\nunmatched sells: ${view.health.unmatchedSells.count}${unmatched.length ? ' (first ones below; sizes per symbol in the health)' : ''}`,
        );
        for (const u of unmatched) out(`  ${u.sell_order_id} ${u.symbol} ${u.size} had no open lot`);
        out(`\nhealth:\n${healthText(view)}`);
        if (unmatched[0]) {
          out(
            `\nnext: npx fifo explain ${unmatched[0].sell_order_id} shows how a sell was allocated` +
              (db.description.startsWith('embedded')
                ? ' (set DATABASE_URL first: this embedded database was in memory)'
                : ''),
          );
        }

        // The daily report on the sample, for its last 24 h (the sample's clock, not today's), with
        // the bot's optional inputs beside the trades: a price table and cash_transactions.
        const reportEnd = new Date(all.at(-1)!.order_time);
        const inputs = await loadSampleReportInputs(client, [...all, lateBuy], reportEnd);
        const report = await runDailyReport(db, {
          version,
          now: reportEnd,
          settings: { ...DEFAULT_SETTINGS, priceTable: inputs.priceTable },
        });
        const files = await writeReportFiles(report, 'out');
        out(
          `\ndaily report: ${report.subject}` +
            `\n  marks from ${inputs.priceTable} (${inputs.marked.join(', ')}; ${inputs.stale.join(', ') || 'none'} stale, ` +
            `${inputs.unmarked.join(', ') || 'none'} at its last fill); starting equity from cash_transactions`,
        );
        out(`report written to ${files.join(', ')}`);
      }
    },
    { embeddedDir: null, quiet: true, migrate: false, schema: 'any' },
  );
}
