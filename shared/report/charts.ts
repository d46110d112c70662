/**
 * The two charts' series and scales, shared by the HTML and text renderers so both draw the
 * same figures: the daily realized PnL (bars up and down from zero) and the equity curve
 * (starting equity + all-time realized PnL at each day's end; the all-time realized PnL alone
 * when the starting equity is unknown). Values stay exact; only bar lengths are rounded.
 */
import { Exact } from './exact.ts';
import type { ReportModel } from './model.ts';

export interface Point {
  readonly date: string;
  /** Exact decimal text. */
  readonly value: string;
}

export interface DailySeries {
  readonly points: Point[];
  /** max(0, highest day): the top of the axis. */
  readonly top: string;
  /** min(0, lowest day): the bottom of the axis. */
  readonly bottom: string;
}

export function dailySeries(model: ReportModel): DailySeries {
  const points = model.chart.days.map((d) => ({ date: d.date, value: d.pnl }));
  const values = points.map((p) => new Exact(p.value));
  return {
    points,
    top: Exact.max(0, ...values).toFixed(),
    bottom: Exact.min(0, ...values).toFixed(),
  };
}

export interface CurveSeries {
  /** 'equity' with a known starting equity, else the all-time realized PnL. */
  readonly kind: 'equity' | 'realized';
  readonly points: Point[];
  readonly low: string;
  readonly high: string;
}

export function curveSeries(model: ReportModel): CurveSeries {
  const equity = model.chart.days.every((d) => d.equity !== null);
  const points = model.chart.days.map((d) => ({ date: d.date, value: equity ? d.equity! : d.cumulative }));
  const values = points.map((p) => new Exact(p.value));
  return {
    kind: equity ? 'equity' : 'realized',
    points,
    low: Exact.min(...values).toFixed(),
    high: Exact.max(...values).toFixed(),
  };
}

/** |value| / span of `size` units, rounded, at least 1 for a value that is not 0. */
export function scaled(value: string, span: string, size: number): number {
  const v = new Exact(value).abs();
  const s = new Exact(span);
  if (v.isZero() || s.isZero()) return 0;
  return Math.max(1, Math.round(v.div(s).times(size).toNumber()));
}

/** Where value sits between low and high, in 0..size (size / 2 when the range is empty). */
export function position(value: string, low: string, high: string, size: number): number {
  const range = new Exact(high).minus(low);
  if (range.isZero()) return Math.round(size / 2);
  return Math.round(new Exact(value).minus(low).div(range).times(size).toNumber());
}
