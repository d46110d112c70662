/**
 * Plain-text renderings of the adoption commands' results, for the CLI's stdout. Amounts show
 * 2 decimals with thousands separators unless `exact` (the CLI's --exact), as in every text
 * output (README.md, "When something looks wrong"); JSON keeps them exact.
 */
import { money, signedMoney } from '../util/format.ts';
import { left, right, textTable } from '../util/text-table.ts';
import type { ArchiveResult, RestoreResult } from './archive.ts';
import type { VersionComparison } from './compare-versions.ts';
import type { LegacyPnlReconciliation, LegacyPnlRow } from './legacy-vs-fifo.ts';
import type { PruneResult, StoredVersion } from './versions.ts';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const list = (items: readonly string[]) => (items.length > 0 ? items.join(', ') : 'none');

const values = (v: Partial<Record<string, number>>) =>
  Object.entries(v)
    .map(([c, n]) => `${c} ${n}`)
    .join(', ') || 'none';

export function archiveText(r: ArchiveResult): string {
  const out = [
    `archived ${plural(r.archivedRows, 'trade')} into fifo_legacy_pnl_archive and set ${plural(r.clearedRows, 'row')} NULL`,
    `  values moved: ${values(r.values)}`,
    `  columns absent from trade_records: ${list(r.absentColumns)}`,
    `  archive now holds ${plural(r.archiveRows, 'row')}`,
  ];
  if (r.clearedRows === 0 && r.conflicts === 0) out.push('  nothing left to archive (already archived)');
  if (r.conflicts > 0) {
    out.push(
      `  CONFLICTS: ${plural(r.conflicts, 'row')} left live because a value differs from the one archived earlier ` +
        `(${r.conflictSample.join(', ')}${r.conflicts > r.conflictSample.length ? ', ...' : ''})`,
    );
  }
  return `${out.join('\n')}\n`;
}

export function restoreText(r: RestoreResult): string {
  const out = [
    `restored ${plural(r.restoredRows, 'trade')} from fifo_legacy_pnl_archive (only where the live value was NULL)`,
    `  values put back: ${values(r.values)}`,
    `  archive rows kept: ${r.archiveRows}; of them ${r.orphans} without a trade any more`,
  ];
  if (Object.keys(r.notRestorable).length > 0) {
    out.push(`  NOT RESTORABLE (column absent from trade_records): ${values(r.notRestorable)}`);
  }
  if (r.conflicts > 0) {
    out.push(
      `  CONFLICTS: ${plural(r.conflicts, 'row')} kept their live value, which differs from the archived one ` +
        `(${r.conflictSample.join(', ')}${r.conflicts > r.conflictSample.length ? ', ...' : ''})`,
    );
  }
  return `${out.join('\n')}\n`;
}

/** How an amount is shown: rounded to 2 decimals (half away from zero), or exact as stored. */
interface Amounts {
  readonly usd: (text: string) => string;
  /** With an explicit sign, for differences: "+1,234.57", "-0.05", "0.00". */
  readonly signed: (text: string) => string;
}

const amountsOf = (exact: boolean): Amounts =>
  exact
    ? { usd: (t) => t, signed: (t) => (t.startsWith('-') || t === '0' ? t : `+${t}`) }
    : { usd: money, signed: signedMoney };

function legacyRows(rows: readonly LegacyPnlRow[], amounts: Amounts): string[] {
  return textTable(
    [
      left('Sell time (UTC)'),
      left('Symbol'),
      left('Sell'),
      right('Legacy'),
      right('FIFO'),
      right('Difference'),
      left('Source'),
    ],
    rows.map((r) => [
      r.sellTime.slice(0, 19).replace('T', ' '),
      r.symbol,
      r.sellOrderId,
      amounts.usd(r.legacyPnl),
      amounts.usd(r.fifoPnl),
      amounts.signed(r.difference),
      r.source,
    ]),
  );
}

export function reconciliationText(r: LegacyPnlReconciliation, limit = 50, exact = false): string {
  const amounts = amountsOf(exact);
  const window =
    r.window.start === null
      ? `all time to ${r.window.end}`
      : `${r.window.hours} h, ${r.window.start} to ${r.window.end}`;
  const out = [
    `Legacy vs FIFO PnL, version ${r.version}, ${window}`,
    `  legacy from: ${r.columns.length > 0 ? `trade_records.${r.columns.join(' or ')}` : 'no live column'}${
      r.archive ? ', then fifo_legacy_pnl_archive' : ''
    }`,
    `  ${plural(r.rows.length, 'sell')} compared (${r.fromLive} live, ${r.fromArchive} archived), ` +
      `${r.withoutLegacy} without a legacy value, ${r.differing} differing`,
    `  legacy total ${amounts.usd(r.legacyTotal)}, FIFO total ${amounts.usd(r.fifoTotal)}: ` +
      `total difference ${amounts.signed(r.totalDifference)} USD`,
  ];
  if (r.legacyWithoutFifo.count > 0) {
    out.push(
      `  ${plural(r.legacyWithoutFifo.count, 'sell')} with a legacy value have no allocation in version ${r.version} ` +
        `(${r.legacyWithoutFifo.sample.join(', ')}${r.legacyWithoutFifo.count > r.legacyWithoutFifo.sample.length ? ', ...' : ''})`,
    );
  }
  out.push('', 'DISCREPANCY TABLE (by sell time)');
  if (r.table.length === 0) out.push('  no sell to compare');
  else {
    const shown = limit > 0 ? r.table.slice(0, limit) : r.table;
    out.push(...legacyRows(shown, amounts));
    if (shown.length < r.table.length)
      out.push(`  ... ${r.table.length - shown.length} more (--limit 0 or --json)`);
  }
  out.push('', `BIGGEST OFFENDERS (top ${r.offenders.length} by |difference|)`);
  if (r.offenders.length === 0) out.push('  none: every compared sell agrees');
  else out.push(...legacyRows(r.offenders, amounts));
  return `${out.join('\n')}\n`;
}

export function comparisonText(c: VersionComparison, exact = false): string {
  const amounts = amountsOf(exact);
  const out = [
    `Version ${c.a.version} vs version ${c.b.version}`,
    ...textTable(
      [
        left('Version'),
        right('Allocation rows'),
        right('Sells'),
        right('Unmatched sells'),
        right('Realized PnL'),
      ],
      [c.a, c.b].map((v) => [
        String(v.version),
        String(v.allocations),
        String(v.sells),
        String(v.unmatchedSells),
        amounts.usd(v.realizedPnl),
      ]),
    ),
    `  total difference (${c.b.version} - ${c.a.version}): ${amounts.signed(c.totalDifference)} USD`,
    '',
    `Sells: ${c.sells.inBoth} in both (${c.sells.same} the same, ${c.sells.pnlDiffers} with a different PnL, ` +
      `${c.sells.slicesDiffer} with the same PnL from different slices), ${c.sells.onlyInA} only in ${c.a.version}, ` +
      `${c.sells.onlyInB} only in ${c.b.version}`,
    `Allocation rows (sell, lot): ${c.rows.onlyInA} only in ${c.a.version}, ${c.rows.onlyInB} only in ${c.b.version}`,
  ];
  if (c.differences.length > 0) {
    out.push(
      '',
      `DIFFERING SELLS (largest |difference| first, ${c.differences.length} shown)`,
      ...textTable(
        [
          left('Sell time (UTC)'),
          left('Symbol'),
          left('Sell'),
          right(`PnL v${c.a.version}`),
          right(`PnL v${c.b.version}`),
          right('Difference'),
          left('Status'),
        ],
        c.differences.map((d) => [
          d.sellTime.slice(0, 19).replace('T', ' '),
          d.symbol,
          d.sellOrderId,
          d.pnlA === null ? '-' : amounts.usd(d.pnlA),
          d.pnlB === null ? '-' : amounts.usd(d.pnlB),
          amounts.signed(d.difference),
          d.status,
        ]),
      ),
    );
  }
  return `${out.join('\n')}\n`;
}

const held = (v: StoredVersion) =>
  `version ${v.version}: ${v.allocations} allocations, ${v.lots} lots, ${v.progress} progress rows, ${v.changes} pending changes${
    v.registered ? '' : ' (not registered)'
  }`;

export function pruneText(r: PruneResult): string {
  const out = [
    `${r.dryRun ? 'dry run: would keep' : 'kept'} ${plural(r.kept.length, 'version')} (active ${r.active}, --keep ${r.keep})`,
    ...r.kept.map((v) => `  ${held(v)}${v.version === r.active ? ' [active]' : ''}`),
  ];
  out.push(
    r.deleted.length === 0
      ? 'nothing to delete'
      : `${r.dryRun ? 'would delete' : 'deleted'} ${plural(r.deleted.length, 'version')} (the computation log is kept):`,
    ...r.deleted.map((v) => `  ${held(v)}`),
  );
  for (const w of r.warnings) out.push(`warning: ${w}`);
  return `${out.join('\n')}\n`;
}
