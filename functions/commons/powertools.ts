/**
 * The Powertools Logger and Metrics of every function, built once per container from the
 * shared constants. Metrics go to stdout as EMF (no API call, no VPC endpoint needed).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, SERVICE_NAME } from './constants.ts';

/** JSON lines; the level comes from POWERTOOLS_LOG_LEVEL (or Lambda's log level controls). */
export const logger = new Logger({ serviceName: SERVICE_NAME });

/**
 * EMF metrics in METRICS_NAMESPACE with the `service` dimension; the handler wrapper adds the
 * deployment dimension on each invocation (dimensions are never set at module scope).
 */
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
