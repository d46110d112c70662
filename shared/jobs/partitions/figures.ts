/**
 * A partition's figures as stored in fifo_rebuild_partitions.result (JSON: exact amounts as
 * decimal text), and their sum over the partitions of a run: what finish logs.
 */
import { emptyCounts } from '../../db/run-log.ts';
import { formatUsd, parseScaled, QTY_SCALE, USD_SCALE } from '../../fifo/index.ts';
import type { RebuildPassResult } from '../rebuild-pass.ts';
import { formatPnlDifference } from '../reconcile.ts';

export interface PartitionFigures {
  readonly trades: number;
  readonly allocations: number;
  readonly symbols: string[];
  readonly buys: number;
  readonly sells: number;
  readonly rejected: number;
  readonly drift: {
    readonly added: number;
    readonly removed: number;
    readonly changed: number;
    readonly lot_rows: number;
    readonly usd: string;
  };
  readonly pending: {
    readonly changes: number;
    readonly symbols: number;
    readonly rows: number;
    readonly lot_rows: number;
    readonly usd: string;
  };
  readonly realized_pnl_usd: string;
  readonly first_build: boolean;
}

export function partitionFigures(pass: RebuildPassResult): PartitionFigures {
  const c = pass.counts;
  return {
    trades: pass.trades,
    allocations: pass.allocations,
    symbols: [...c.symbols],
    buys: c.buysProcessed,
    sells: c.sellsProcessed,
    rejected: pass.rejected.length,
    drift: {
      added: c.driftRowsAdded,
      removed: c.driftRowsRemoved,
      changed: c.driftRowsChanged,
      lot_rows: pass.lotDriftRows,
      usd: formatPnlDifference(pass.pnlDifference),
    },
    pending: {
      changes: pass.pending.changes,
      symbols: pass.pending.symbols,
      rows: pass.pending.rows,
      lot_rows: pass.pending.lotRows,
      usd: formatPnlDifference(pass.pending.pnl),
    },
    realized_pnl_usd: formatUsd(pass.realizedPnl),
    first_build: pass.firstBuild,
  };
}

/** The sum of the partitions' figures, as a pass over every symbol would have counted them. */
export function sumFigures(parts: readonly PartitionFigures[]) {
  const counts = emptyCounts();
  let trades = 0;
  let allocations = 0;
  let lotDriftRows = 0;
  let driftPnl = 0n;
  let realized = 0n;
  const pending = { changes: 0, symbols: 0, rows: 0, lotRows: 0, pnl: 0n };
  for (const p of parts) {
    trades += p.trades;
    allocations += p.allocations;
    for (const s of p.symbols) counts.symbols.add(s);
    counts.buysProcessed += p.buys;
    counts.sellsProcessed += p.sells;
    counts.allocationsCreated += p.allocations;
    counts.tradesRejected += p.rejected;
    counts.driftRowsAdded += p.drift.added;
    counts.driftRowsRemoved += p.drift.removed;
    counts.driftRowsChanged += p.drift.changed;
    lotDriftRows += p.drift.lot_rows;
    driftPnl += parseScaled(p.drift.usd, QTY_SCALE);
    realized += parseScaled(p.realized_pnl_usd, USD_SCALE);
    pending.changes += p.pending.changes;
    pending.symbols += p.pending.symbols;
    pending.rows += p.pending.rows;
    pending.lotRows += p.pending.lot_rows;
    pending.pnl += parseScaled(p.pending.usd, QTY_SCALE);
  }
  counts.changesConsumed = pending.changes;
  counts.driftUsd = formatPnlDifference(driftPnl);
  counts.totalPnl = formatUsd(realized);
  return { counts, trades, allocations, lotDriftRows, driftPnl, realized, pending };
}
