/** Emits the metrics of functions/commons/constants.ts: names and units come only from there. */
import type { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

import type { MetricDefinition, MetricUnitName } from './constants.ts';

/** Compile-time proof that every unit fifo-ledger uses is a Powertools MetricUnit. */
const asPowertoolsUnit = (unit: MetricUnitName): PowertoolsUnit => unit;
type PowertoolsUnit = (typeof MetricUnit)[keyof typeof MetricUnit];

/** Adds one value of a defined metric to the invocation's EMF blob. */
export function emit(metrics: Metrics, metric: MetricDefinition, value: number): void {
  metrics.addMetric(metric.name, asPowertoolsUnit(metric.unit), value);
}
