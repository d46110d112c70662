/**
 * The plumbing every handler shares, on middy with Powertools' own middlewares:
 * injectLambdaContext puts the Lambda context (request id, cold start) into every log line and
 * resets the invocation's keys after it; logMetrics flushes the metrics as EMF whatever happens.
 * The job's part: the event is validated, the scheduled time is logged with every line, the
 * metrics carry the deployment dimension, and a failure is logged and rethrown so that Lambda
 * counts it (Errors alarm, async retry, failure destination).
 */
import { getStringFromEnv } from '@aws-lambda-powertools/commons/utils/env';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { ConfigError, resolveVersion } from '../../shared/jobs/index.ts';
import { DEPLOYMENT_DIMENSION, ENV } from './constants.ts';
import { logger, metrics } from './powertools.ts';

/**
 * What a schedule sends (lib/ builds it from EventBridge Scheduler's context attributes).
 * Delivery is at least once: a redelivered event carries the same scheduled time.
 */
export const scheduledFields = {
  /** <aws.scheduler.scheduled-time>: when the tick was due, not when it arrived. */
  scheduledTime: z.iso.datetime({ offset: true }).optional(),
  /** <aws.scheduler.schedule-arn>. */
  scheduleArn: z.string().min(1).optional(),
  /** <aws.scheduler.attempt-number>: Scheduler's delivery attempt, from 1. */
  attempt: z.union([z.number().int().min(1), z.string().regex(/^\d+$/)]).optional(),
};

/** A schedule's payload with no job-specific field. */
export const scheduledEventSchema = z.strictObject(scheduledFields);
export type ScheduledEvent = z.infer<typeof scheduledEventSchema>;

export interface JobInvocation<E> {
  readonly event: E;
  readonly context: Context;
  /** The allocation version (FIFO_ALLOCATION_VERSION, else 1). */
  readonly version: number;
  /** For the run log: "schedule <scheduled time>" or "lambda <request id>". */
  readonly triggeredBy: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export type JobHandler<R> = (event: unknown, context: Context) => Promise<R>;

/** Wraps a job in the shared plumbing. `job` names it in every log line. */
export function jobHandler<S extends z.ZodType<ScheduledEvent>, R>(
  job: string,
  schema: S,
  run: (invocation: JobInvocation<z.infer<S>>) => Promise<R>,
): JobHandler<R> {
  const invoke = async (rawEvent: unknown, context: Context): Promise<R> => {
    logger.appendKeys({ job });
    try {
      // Read per invocation, not at module scope: a missing variable fails the run with a log line.
      metrics.setDefaultDimensions({ [DEPLOYMENT_DIMENSION]: getStringFromEnv({ key: ENV.deployment }) });
      const event = parseEvent(schema, rawEvent);
      const scheduledTime = event.scheduledTime ?? null;
      logger.appendKeys({ scheduledTime });
      logger.info(`${job} started`, {
        scheduledTime,
        scheduleArn: event.scheduleArn ?? null,
        attempt: event.attempt ?? null,
      });
      const version = resolveVersion();
      const triggeredBy = scheduledTime ? `schedule ${scheduledTime}` : `lambda ${context.awsRequestId}`;
      const result = await run({ event, context, version, triggeredBy, logger, metrics });
      logger.info(`${job} finished`, { result: result as Record<string, unknown> });
      return result;
    } catch (error) {
      logger.error(`${job} failed`, error as Error);
      throw error;
    }
  };
  // No early timeout (timeoutEarlyInMillis 0): the jobs do not listen for middy's abort, so the
  // middlewares would flush and reset under a job still running. Lambda's timeout ends the run.
  return middy(invoke, { timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}

function parseEvent<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  // A direct invocation with no payload (the deploy trigger, a console test) is an empty event.
  const parsed = schema.safeParse(raw ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`)
      .join('; ');
    throw new ConfigError(`invalid event: ${problems}`);
  }
  return parsed.data;
}
