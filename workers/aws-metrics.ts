import type { MetricMeter } from '@temporalio/common';
import { isNetworkError, isThrottlingError } from '../activities/aws/errors';
import type { AwsClients } from '../platform/aws-clients';

/**
 * The project's own Prometheus counters for AWS, on the worker's metrics endpoint beside Temporal's
 * (worker.metricsPort): every attempt of every call by service, operation and outcome; the retries
 * among them; and the resources created and deleted. An SDK middleware inside the retry loop counts
 * each attempt once, so a call the SDK retried twice shows as three attempts and two retries.
 */
export const AWS_METRIC_NAMES = {
  calls: 'llmtwin_aws_calls',
  retries: 'llmtwin_aws_retries',
  created: 'llmtwin_resources_created',
  deleted: 'llmtwin_resources_deleted',
} as const;

export type AttemptOutcome = 'ok' | 'throttled' | 'server_error' | 'client_error' | 'network_error';

/** What one attempt came to, in the one classifier's terms (activities/aws/errors.ts), split the way an operator reads it. */
export function attemptOutcome(error: unknown): AttemptOutcome {
  if (error === undefined) return 'ok';
  if (isThrottlingError(error)) return 'throttled';
  if (isNetworkError(error)) return 'network_error';
  const answered: { $metadata?: { httpStatusCode?: number } } = error ?? {};
  const status = answered.$metadata?.httpStatusCode;
  if (status === undefined) return 'network_error';
  return status >= 500 ? 'server_error' : 'client_error';
}

/** `PutObjectCommand` of `S3Client` -> service S3, operation PutObject; and what it made or removed, if anything. */
export function describeAttempt(
  clientName: string,
  commandName: string,
): { service: string; operation: string; change?: 'created' | 'deleted'; kind?: string } {
  const service = clientName.replace(/Client$/, '');
  const operation = commandName.replace(/Command$/, '');
  // Multipart pieces and tag edits change no resource of their own.
  const change = /^Create(?!MultipartUpload)/.test(operation)
    ? 'created'
    : /^Delete(?!Tags|Objects?$)/.test(operation)
      ? 'deleted'
      : undefined;
  return change ? { service, operation, change, kind: operation.replace(/^(Create|Delete)/, '') } : { service, operation };
}

/** The SDK's attempt counter, from the `amz-sdk-request: attempt=2; max=3` header its retry middleware sets. */
function attemptNumber(request: unknown): number {
  const header = (request as { headers?: Record<string, string> }).headers?.['amz-sdk-request'] ?? '';
  return Number(/attempt=(\d+)/.exec(header)?.[1] ?? 1);
}

const instrumented = new WeakSet<object>();

/** Adds the counting middleware to each client once (a second call for the same clients adds nothing). */
export function instrumentAwsClients(aws: AwsClients, meter: MetricMeter): void {
  const calls = meter.createCounter(AWS_METRIC_NAMES.calls, 'attempts', 'AWS API attempts, by service, operation and outcome');
  const retries = meter.createCounter(AWS_METRIC_NAMES.retries, 'attempts', 'AWS API attempts that were SDK retries of a failed one');
  const created = meter.createCounter(
    AWS_METRIC_NAMES.created,
    'resources',
    'AWS resources created (jobs, models, configs, endpoints, ...)',
  );
  const deleted = meter.createCounter(AWS_METRIC_NAMES.deleted, 'resources', 'AWS resources deleted');
  for (const client of Object.values(aws) as Array<{ middlewareStack: AwsClients['s3']['middlewareStack'] }>) {
    if (instrumented.has(client)) continue;
    instrumented.add(client);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const attempt = describeAttempt(context.clientName ?? 'Unknown', context.commandName ?? 'Unknown');
        const tags = { service: attempt.service, operation: attempt.operation };
        if (attemptNumber(args.request) > 1) retries.add(1, tags);
        try {
          const result = await next(args);
          calls.add(1, { ...tags, outcome: 'ok' });
          if (attempt.change)
            (attempt.change === 'created' ? created : deleted).add(1, { service: attempt.service, kind: attempt.kind ?? '' });
          return result;
        } catch (error) {
          calls.add(1, { ...tags, outcome: attemptOutcome(error) });
          throw error;
        }
      },
      // Inside the retry loop (finalizeRequest), once per attempt, and outside the deserializer, so a failed
      // attempt arrives as the typed error it becomes (the tests' fault layer sits inside, at low priority).
      { step: 'deserialize', name: 'llmtwinAwsMetrics', priority: 'high' },
    );
  }
}
