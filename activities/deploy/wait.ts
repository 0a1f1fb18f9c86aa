import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { durationToMs } from '../../common/shared/durations';
import { ERROR_TYPES } from '../../common/shared/errors';
import { describeEndpointIfExists } from '../aws/endpoints';
import { pollOrBackOff, sleepBeating, type PollingIntervals } from '../aws/job-polling';
import type { SageMakerSender } from '../aws/clients';
import type { ServingCompute } from './serving-compute';

/**
 * Waiting for an endpoint to serve a config: polls with backoff, heartbeats what it sees, resumes from
 * its last heartbeat (the deadline too, so a retried wait does not start its hour again), and fails
 * with SageMaker's FailureReason when the endpoint ends Failed, or when an update was rolled back and
 * the endpoint serves its old config again.
 */

export interface EndpointProgress {
  endpointName: string;
  configName: string;
  status: string;
  detail?: string;
  startedAt: number;
  polls: number;
  throttledPolls: number;
  intervalMs: number;
}

function failed(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: ERROR_TYPES.endpointFailed, nonRetryable: true, message });
}

export async function waitForEndpoint(
  deps: { sagemaker: SageMakerSender; serving: ServingCompute; polling: PollingIntervals },
  input: { endpointName: string; configName: string; timeout: string },
): Promise<{ status: 'InService'; waitedMs: number; localUrl?: string }> {
  const context = Context.current();
  const resumed = context.info.heartbeatDetails as EndpointProgress | undefined;
  let progress: EndpointProgress = resumed ?? {
    endpointName: input.endpointName,
    configName: input.configName,
    status: 'unknown',
    startedAt: Date.now(),
    polls: 0,
    throttledPolls: 0,
    intervalMs: deps.polling.initialMs,
  };
  const deadline = progress.startedAt + durationToMs(input.timeout);
  for (;;) {
    const poll = await pollOrBackOff(
      context,
      deps.polling,
      progress,
      { operation: 'DescribeEndpoint', resource: `endpoint ${input.endpointName}` },
      () => describeEndpointIfExists(deps.sagemaker, input.endpointName, context.cancellationSignal),
    );
    if ('backedOff' in poll) {
      progress = poll.backedOff;
      continue;
    }
    const endpoint = poll.job;
    if (!endpoint) throw failed(`endpoint ${input.endpointName} disappeared while it was being deployed (someone deleted it)`);
    const status = endpoint.EndpointStatus ?? 'unknown';
    const moving = endpoint.PendingDeploymentSummary?.EndpointConfigName === input.configName;
    let detail: string | undefined;
    if (status === 'Failed') {
      throw failed(
        `endpoint ${input.endpointName} failed: ${endpoint.FailureReason ?? 'SageMaker gave no reason'} (CloudWatch Logs group /aws/sagemaker/Endpoints/${input.endpointName})`,
      );
    }
    if (status === 'InService' && endpoint.EndpointConfigName !== input.configName && !moving) {
      throw failed(
        `the update of endpoint ${input.endpointName} to ${input.configName} was rolled back; it serves ${endpoint.EndpointConfigName ?? 'its old config'} again${endpoint.FailureReason ? `: ${endpoint.FailureReason}` : ''}`,
      );
    }
    if (status === 'InService' && endpoint.EndpointConfigName === input.configName) {
      const served = await deps.serving.ready(input.configName);
      if (served.ready)
        return { status: 'InService', waitedMs: Date.now() - progress.startedAt, ...(served.url ? { localUrl: served.url } : {}) };
      if (served.failure) throw failed(`endpoint ${input.endpointName} cannot serve: ${served.failure}`);
      detail = served.detail;
    }
    progress = {
      ...progress,
      status,
      ...(detail ? { detail } : {}),
      polls: progress.polls + 1,
      intervalMs: Math.min(Math.max(progress.intervalMs, deps.polling.initialMs) * 1.5, deps.polling.maxMs),
    };
    if (Date.now() >= deadline) {
      throw failed(
        `endpoint ${input.endpointName} did not come InService within ${input.timeout} (last ${status}${detail ? `: ${detail}` : ''}); a container that never answers /ping stays Creating: see CloudWatch Logs /aws/sagemaker/Endpoints/${input.endpointName}`,
      );
    }
    context.heartbeat(progress);
    await sleepBeating(context, Math.min(progress.intervalMs, Math.max(0, deadline - Date.now())), progress);
  }
}
