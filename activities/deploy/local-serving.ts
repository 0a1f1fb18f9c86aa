import { join } from 'node:path';
import { CreateEndpointCommand, DescribeEndpointCommand } from '@aws-sdk/client-sagemaker';
import { LOCAL_SERVER_FILE, MAX_SERVE_GENERATIONS, serveJobName, type ServedConfig } from '../../common/deploy/plan';
import { durationToMs } from '../../common/shared/durations';
import { projectPath } from '../../platform/paths';
import { findLocalServer } from '../../platform/local-endpoints';
import { awsCall } from '../aws/errors';
import type { SageMakerSender } from '../aws/clients';
import { jobFolder, TERMINAL_STATUSES, type LocalJobSpec } from '../local/job-folder';
import { launchLocalJob, readLocalJob, stopLocalJob, type LocalComputeOptions } from '../local/local-jobs';
import { readTags } from '../aws/endpoints';
import type { ServingCompute } from './serving-compute';

/**
 * Local endpoints: the embedded SageMaker (moto) records the model, config and endpoint as for any
 * endpoint, so `endpoints list`, the idle monitor and teardown see them unchanged, and jobs/serve
 * serves each config as a detached local job (adopted after a worker restart, like a training job).
 * The server publishes the endpoint's CloudWatch metrics and stops by itself once its endpoint is
 * deleted or serves another config; release() stops it at once.
 */

export interface LocalServingOptions extends LocalComputeOptions {
  resourceNamePrefix: string;
  metricsIntervalSeconds: number;
}

const SERVE_ENTRY_POINT = 'jobs/serve/serve.py';
const TWENTY_EIGHT_DAYS = 28 * 86_400;

export function localServeSpec(plan: ServedConfig, jobName: string, options: LocalServingOptions): LocalJobSpec {
  const folder = jobFolder(options.jobsDir, jobName);
  const aws = options.aws;
  return {
    name: jobName,
    request: { EndpointName: plan.endpointName, EndpointConfigName: plan.configName, ModelDataUrl: plan.modelUri },
    aws,
    inputs: [{ s3Uri: plan.modelUri, dir: 'model', unpack: true, optional: false }],
    files: [],
    program: {
      command: options.python,
      args: [projectPath(SERVE_ENTRY_POINT)],
      cwd: 'model',
      env: {
        LLMTWIN_MODEL_DIR: join(folder.ml, 'model'),
        LLMTWIN_ENDPOINT_NAME: plan.endpointName,
        LLMTWIN_CONFIG_NAME: plan.configName,
        LLMTWIN_VARIANT_NAME: plan.variantName,
        LLMTWIN_SERVER_FILE: join(folder.root, LOCAL_SERVER_FILE),
        LLMTWIN_METRICS_INTERVAL_SECONDS: String(options.metricsIntervalSeconds),
        // The embedded stack's moto takes any credentials; local endpoints exist only there (planDeployment checks).
        ...(aws.endpointUrl ? { AWS_ENDPOINT_URL: aws.endpointUrl } : {}),
        AWS_DEFAULT_REGION: aws.region,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        HF_HUB_OFFLINE: '1',
        PYTHONUNBUFFERED: '1',
        TOKENIZERS_PARALLELISM: 'false',
      },
      secretEnv: [],
    },
    outputs: [],
    metricDefinitions: [],
    maxRuntimeSeconds: TWENTY_EIGHT_DAYS,
    stopGraceSeconds: options.stopGraceSeconds,
    createdAt: new Date().toISOString(),
  };
}

/** The generations of a config's server, oldest first, with what each is doing. */
function generations(options: LocalServingOptions, configName: string) {
  const found: Array<{ jobName: string; status: string; failureReason?: string }> = [];
  for (let generation = 0; generation < MAX_SERVE_GENERATIONS; generation += 1) {
    const jobName = serveJobName(options.resourceNamePrefix, configName, generation);
    const view = readLocalJob(options.jobsDir, jobName);
    if (!view) return { found, next: jobName };
    found.push({ jobName, status: view.state.status, ...(view.state.failureReason ? { failureReason: view.state.failureReason } : {}) });
  }
  return { found, next: undefined };
}

export function localServingCompute(sagemaker: SageMakerSender, options: LocalServingOptions): ServingCompute {
  return {
    backend: 'local',
    async prepare(plan) {
      const { found, next } = generations(options, plan.configName);
      // A server of this config already runs (an earlier attempt started it): adopt it.
      if (found.some((job) => !TERMINAL_STATUSES.has(job.status as never))) return;
      if (!next)
        throw new Error(
          `config ${plan.configName} was served ${MAX_SERVE_GENERATIONS} times locally; delete its old jobs in ${options.jobsDir}`,
        );
      await launchLocalJob(options.jobsDir, localServeSpec(plan, next, options), {});
    },
    async ready(configName) {
      const latest = generations(options, configName).found.at(-1);
      if (!latest) return { ready: false, failure: `no local server was started for config ${configName}`, detail: 'no server' };
      if (TERMINAL_STATUSES.has(latest.status as never)) {
        return {
          ready: false,
          failure: `the local server ${latest.jobName} ended ${latest.status}${latest.failureReason ? `: ${latest.failureReason}` : ''} (llmtwin jobs logs ${latest.jobName})`,
          detail: latest.status,
        };
      }
      const server = findLocalServer(options.jobsDir, options.resourceNamePrefix, configName);
      if (!server) return { ready: false, detail: `local server ${latest.jobName} is loading the model` };
      try {
        const ping = await fetch(new URL('/ping', server.url), { signal: AbortSignal.timeout(5_000) });
        return ping.ok
          ? { ready: true, url: `${server.url}/invocations` }
          : { ready: false, detail: `local server answers /ping with HTTP ${ping.status}` };
      } catch {
        return { ready: false, detail: `local server at ${server.url} does not answer yet` };
      }
    },
    release(configName) {
      for (const job of generations(options, configName).found) stopLocalJob(options.jobsDir, job.jobName);
      return Promise.resolve();
    },
    // moto has no UpdateEndpoint; creating an endpoint under an existing name re-records it, so the
    // endpoint moves to the new config at once (the server of the old one then stops by itself).
    async update(request, abortSignal) {
      const name = request.EndpointName as string;
      const described = await awsCall({ operation: 'DescribeEndpoint', resource: `endpoint ${name}` }, () =>
        sagemaker.send(new DescribeEndpointCommand({ EndpointName: name }), { abortSignal }),
      );
      const tags = await readTags(sagemaker, described.EndpointArn as string, abortSignal);
      await awsCall({ operation: 'CreateEndpoint', resource: `endpoint ${name} (local update)` }, () =>
        sagemaker.send(
          new CreateEndpointCommand({
            EndpointName: name,
            EndpointConfigName: request.EndpointConfigName,
            Tags: [...tags].map(([Key, Value]) => ({ Key, Value })),
          }),
          { abortSignal },
        ),
      );
    },
  };
}

export function localServingOptions(local: LocalComputeOptions, prefix: string, metricsInterval: string): LocalServingOptions {
  return { ...local, resourceNamePrefix: prefix, metricsIntervalSeconds: Math.max(1, durationToMs(metricsInterval) / 1000) };
}
