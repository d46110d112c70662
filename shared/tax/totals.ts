/**
 * Exact totals of the rows: per box, per term and in all, the figures Schedule D takes from
 * Form 8949 (proceeds, cost basis, adjustments, gain). Sums are BigInt, never rounded.
 *
 * A flagged row (MISSING BASIS, no basis) is in none of them: it has its own total, of
 * proceeds, so Σ gain stays the realized PnL of the matched slices. With `zero-basis` those
 * rows are in their box at a basis of 0 and the missing-basis total still counts them.
 */
import { BOX_ORDER, type Box, termOfBox } from './boxes.ts';
import type { Term } from './holding.ts';
import { MISSING_BASIS, type TaxRow } from './rows.ts';

export interface AmountTotals {
  readonly rows: number;
  readonly proceeds: bigint;
  readonly costBasis: bigint;
  readonly adjustments: bigint;
  readonly gain: bigint;
}

export interface BoxTotals extends AmountTotals {
  readonly box: Box;
  readonly term: Term;
}

export interface MissingBasisTotals {
  readonly rows: number;
  /** Distinct sells with a slice that has no lot. */
  readonly sells: number;
  /** Σ (d), net proceeds, of those slices. */
  readonly proceeds: bigint;
  /** True under `zero-basis`: the rows are also in their box's totals, at basis 0. */
  readonly inBoxTotals: boolean;
  /** The sells, in row order, for `fifo explain`. */
  readonly sellOrderIds: string[];
}

export interface TaxTotals {
  /** Only the boxes that have rows, in the form's order. */
  readonly byBox: BoxTotals[];
  readonly byTerm: Readonly<Record<Term, AmountTotals>>;
  readonly all: AmountTotals;
  readonly missingBasis: MissingBasisTotals;
}

const empty = (): {
  rows: number;
  proceeds: bigint;
  costBasis: bigint;
  adjustments: bigint;
  gain: bigint;
} => ({
  rows: 0,
  proceeds: 0n,
  costBasis: 0n,
  adjustments: 0n,
  gain: 0n,
});

export function taxTotals(rows: readonly TaxRow[]): TaxTotals {
  const boxes = new Map<Box, ReturnType<typeof empty>>();
  const terms = { short: empty(), long: empty() };
  const all = empty();
  const missingSells = new Set<string>();
  let missingRows = 0;
  let missingProceeds = 0n;
  let inBoxTotals = false;
  for (const row of rows) {
    if (row.flag === MISSING_BASIS) {
      missingRows++;
      missingProceeds += row.proceeds;
      missingSells.add(row.sellOrderId);
    }
    if (row.box === null || row.costBasis === null || row.gain === null) continue;
    if (row.flag === MISSING_BASIS) inBoxTotals = true;
    let box = boxes.get(row.box);
    if (!box) {
      box = empty();
      boxes.set(row.box, box);
    }
    for (const sum of [box, terms[termOfBox(row.box)], all]) {
      sum.rows++;
      sum.proceeds += row.proceeds;
      sum.costBasis += row.costBasis;
      sum.adjustments += row.adjustment ?? 0n;
      sum.gain += row.gain;
    }
  }
  return {
    byBox: BOX_ORDER.flatMap((box) => {
      const sum = boxes.get(box);
      return sum ? [{ box, term: termOfBox(box), ...sum }] : [];
    }),
    byTerm: terms,
    all,
    missingBasis: {
      rows: missingRows,
      sells: missingSells.size,
      proceeds: missingProceeds,
      inBoxTotals,
      sellOrderIds: [...missingSells],
    },
  };
}
