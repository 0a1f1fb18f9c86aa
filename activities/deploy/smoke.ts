import { ApplicationFailure } from '@temporalio/common';
import { EndpointUnavailableError, invokeTwin, MalformedAnswerError, openTwin, type LocalServing } from '../../client/invoke';
import type { SmokeTestResult } from '../../common/deploy/contract';
import type { DeploymentPlan } from '../../common/deploy/plan';
import { ERROR_TYPES } from '../../common/shared/errors';
import { classifyAwsError, toAwsFailure } from '../aws/errors';
import type { SageMakerRuntimeSender, SageMakerSender } from '../aws/clients';

/**
 * The smoke test: one prompt through the same client users call the twin with (client/invoke.ts), so
 * a deployment passes only when a real caller would get an answer. A malformed or failed answer is
 * final (the deployment is rolled back); throttling and 5xx are retried.
 */
export async function smokeTest(
  clients: { sagemaker: SageMakerSender; runtime: SageMakerRuntimeSender },
  plan: DeploymentPlan,
  local: LocalServing | undefined,
): Promise<SmokeTestResult | null> {
  if (!plan.smokeTest) return null;
  const { prompt, maxTokens } = plan.smokeTest;
  try {
    const twin = await openTwin(clients, plan.endpointName, local);
    const answer = await invokeTwin(twin, prompt, { maxTokens, temperature: 0 });
    return { prompt, answer: answer.text, latencyMs: answer.latencyMs };
  } catch (error) {
    const final =
      error instanceof MalformedAnswerError ||
      error instanceof EndpointUnavailableError ||
      (error as Error).name === 'ModelError' ||
      !classifyAwsError(error).retryable;
    if (!final) throw toAwsFailure(error, { operation: 'InvokeEndpoint', resource: `endpoint ${plan.endpointName}` });
    throw ApplicationFailure.create({
      type: ERROR_TYPES.smokeTestFailed,
      nonRetryable: true,
      message: `the smoke test's prompt got no usable answer from endpoint ${plan.endpointName}: ${(error as Error).message}`,
      cause: error as Error,
    });
  }
}
