import type { WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import {
  DEPLOY_WORKFLOW_TYPE,
  DeployInputSchema,
  deployStatusQuery,
  ROLLBACK_WORKFLOW_TYPE,
  RollbackInputSchema,
  type DeployInput,
  type DeployResult,
  type DeployWorkflow,
  type RollbackResult,
  type RollbackWorkflow,
} from '../../common/deploy/contract';
import type { CliContext } from '../cli-context';
import { UsageError } from '../cli-errors';
import { checkedInput, numberFlag, readInputFile } from '../cli-input';
import { printResult } from '../cli-output';
import { awaitRun, startRun, type RunView } from '../run-follower';
import { findVersion } from './models';

/**
 * `llmtwin deploy`: serve a twin as an endpoint (an Approved registry version, a fine-tune job's model,
 * or a model.tar.gz), outside the pipeline; `llmtwin rollback <endpoint>` puts the config the last
 * deployment replaced back.
 */

interface DeployOptions {
  modelVersion?: string;
  trainingJob?: string;
  model?: string;
  twin?: string;
  endpoint?: string;
  input?: string;
  instanceType?: string;
  instanceCount?: string;
  container?: string;
  image?: string;
  traffic?: string;
  trafficPercent?: string;
  /** commander's --no-smoke-test and --no-monitor: false when given. */
  smokeTest?: boolean;
  monitor?: boolean;
  idleWindow?: string;
  workflowId?: string;
  detach?: boolean;
  json?: boolean;
}

const FLAGS: Readonly<Record<string, string>> = {
  modelVersionArn: '--model-version',
  trainingJobName: '--training-job',
  modelUri: '--model',
  twin: '--twin',
  endpointName: '--endpoint',
  instanceType: '--instance-type',
  instanceCount: '--instance-count',
  container: '--container',
  imageUri: '--image',
  'trafficRouting.type': '--traffic',
  'trafficRouting.percent': '--traffic-percent',
  'monitor.window': '--idle-window',
};

export function registerDeploy(command: Command, context: CliContext): void {
  command
    .option('--model-version <version>', 'an Approved version from the registry: its number (with --twin) or its ARN')
    .option('--training-job <name>', 'or: a completed fine-tune job (its merged model)')
    .option('--model <s3uri>', 'or: a model.tar.gz holding a Hugging Face model folder')
    .option('--twin <name>', "the twin's name: names the endpoint and the registry group (default: twin)")
    .option('--endpoint <name>', 'the endpoint to create or update (default: derived from the twin)')
    .option('--input <file>', 'a JSON deploy input (like examples/deploy.json); the flags override it')
    .option('--instance-type <type>', 'default: sagemaker.inferenceInstanceType')
    .option('--instance-count <n>', 'default: deploy.instanceCount')
    .option('--container <name>', 'vllm (default) or lmi')
    .option('--image <uri>', 'a serving image of your own instead of the table’s')
    .option('--traffic <mode>', 'how an update shifts traffic: ALL_AT_ONCE (default), CANARY or LINEAR')
    .option('--traffic-percent <n>', "CANARY's canary, or LINEAR's step, in percent of capacity")
    .option('--no-smoke-test', 'skip the prompt that checks the endpoint answers')
    .option('--no-monitor', 'do not start the idle monitor (the endpoint then bills until you delete it)')
    .option('--idle-window <duration>', 'the monitor deletes the endpoint after this long without invocations (default: idle.window)')
    .option('--workflow-id <id>', 'workflow id (default: deploy-<time>-<random>)')
    .option('--detach', 'start the workflow and return without waiting (prints its id)')
    .option('--json', 'print the result as JSON (progress goes to stderr)')
    .addHelpText(
      'after',
      '\nNeeds a worker on the control queue (`npm run worker`, or `npm start`). On local compute the endpoint is\n' +
        'served on this machine by jobs/serve and recorded in the embedded SageMaker; on SageMaker it runs the vLLM container.',
    )
    .action(async (options: DeployOptions) => {
      const handle = await startRun<DeployWorkflow>(context, DEPLOY_WORKFLOW_TYPE, await buildInput(context, options), {
        ...options,
        idPrefix: 'deploy',
      });
      if (!handle) return;
      const result = await follow(context, handle);
      printResult(result, Boolean(options.json), () => deployedLines(result));
    });
}

async function buildInput(context: CliContext, options: DeployOptions): Promise<DeployInput> {
  const fromFile = options.input ? readInputFile(options.input) : {};
  let modelVersionArn = options.modelVersion;
  if (modelVersionArn && !modelVersionArn.startsWith('arn:')) {
    modelVersionArn = (await findVersion(context, modelVersionArn, options.twin)).ModelPackageArn;
  }
  const trafficRouting = { ...((fromFile.trafficRouting as object | undefined) ?? {}) } as Record<string, unknown>;
  if (options.traffic) trafficRouting.type = options.traffic.toUpperCase();
  if (options.trafficPercent !== undefined) trafficRouting.percent = numberFlag(options.trafficPercent, '--traffic-percent');
  const monitor = { ...((fromFile.monitor as object | undefined) ?? {}) } as Record<string, unknown>;
  if (options.monitor === false) monitor.enabled = false;
  if (options.idleWindow) monitor.window = options.idleWindow;
  const smokeTest = { ...((fromFile.smokeTest as object | undefined) ?? {}) } as Record<string, unknown>;
  if (options.smokeTest === false) smokeTest.enabled = false;
  const raw = {
    ...fromFile,
    ...(modelVersionArn ? { modelVersionArn } : {}),
    ...(options.trainingJob ? { trainingJobName: options.trainingJob } : {}),
    ...(options.model ? { modelUri: options.model } : {}),
    ...(options.twin ? { twin: options.twin } : {}),
    ...(options.endpoint ? { endpointName: options.endpoint } : {}),
    ...(options.instanceType ? { instanceType: options.instanceType } : {}),
    ...(options.instanceCount !== undefined ? { instanceCount: numberFlag(options.instanceCount, '--instance-count') } : {}),
    ...(options.container ? { container: options.container } : {}),
    ...(options.image ? { imageUri: options.image } : {}),
    ...(Object.keys(trafficRouting).length > 0 ? { trafficRouting } : {}),
    ...(Object.keys(monitor).length > 0 ? { monitor } : {}),
    ...(Object.keys(smokeTest).length > 0 ? { smokeTest } : {}),
  };
  if (!raw.modelVersionArn && !raw.trainingJobName && !raw.modelUri) {
    throw new UsageError('name what to deploy: --model-version <n|arn> (an Approved version), --training-job <name>, or --model <s3uri>');
  }
  return checkedInput(DeployInputSchema, raw, 'deploy input', { flags: FLAGS });
}

function follow(context: CliContext, handle: WorkflowHandle<DeployWorkflow>) {
  return awaitRun(context, handle, {
    intervalMs: 2_000,
    view: async (heartbeats): Promise<RunView> => {
      const status = await handle.query(deployStatusQuery);
      const poll = heartbeats.find(
        (details): details is { status: string; detail?: string } => typeof (details as { status?: unknown })?.status === 'string',
      );
      const parts: string[] = [status.phase];
      if (status.endpointName) parts.push(status.endpointName);
      if (status.action) parts.push(status.action);
      if (poll) parts.push(poll.detail ? `${poll.status}: ${poll.detail}` : poll.status);
      return { line: parts.join('  ') };
    },
  });
}

export function deployedLines(result: DeployResult): string[] {
  return [
    `endpoint      ${result.endpointName}  (${result.action}${result.previousConfigName ? `; was ${result.previousConfigName}` : ''})`,
    `invoke        llmtwin invoke ${result.endpointName} "Hello"   or POST ${result.invokeUrl}${result.compute === 'local' ? ' (this machine only)' : ' (SigV4)'}`,
    `serves        ${result.modelVersionArn ?? result.modelUri}`,
    `on            ${result.instanceCount} x ${result.instanceType} (${result.compute === 'local' ? 'local compute: jobs/serve on this machine' : result.image})`,
    `config        ${result.configName}  (model ${result.modelName})`,
    `autoscaling   ${result.autoscaling ? `${result.autoscaling.minInstances}-${result.autoscaling.maxInstances} instances, target ${result.autoscaling.targetInvocationsPerInstance} invocations/instance/min` : 'off'}`,
    `smoke test    ${result.smokeTest ? `${JSON.stringify(result.smokeTest.answer.replace(/\s+/g, ' ').trim().slice(0, 120))} in ${result.smokeTest.latencyMs} ms` : 'skipped'}`,
    `idle monitor  ${result.monitor ? `${result.monitor.workflowId} (${result.monitor.started ? 'started' : 'already watching'})` : 'off: the endpoint bills until deleted'}`,
  ];
}

export function registerRollback(command: Command, context: CliContext): void {
  command
    .argument('<endpoint>', 'the endpoint to roll back')
    .option('--to <config>', 'the endpoint config to serve again (default: the one the last deployment replaced)')
    .option('--workflow-id <id>', 'workflow id (default: rollback-<time>-<random>)')
    .option('--detach', 'start the workflow and return without waiting')
    .option('--json', 'print the result as JSON')
    .action(async (endpointName: string, options: { to?: string; workflowId?: string; detach?: boolean; json?: boolean }) => {
      const input = checkedInput(
        RollbackInputSchema,
        { endpointName, ...(options.to ? { toConfigName: options.to } : {}) },
        'rollback input',
        { flags: { endpointName: '<endpoint>', toConfigName: '--to' } },
      );
      const handle = await startRun<RollbackWorkflow>(context, ROLLBACK_WORKFLOW_TYPE, input, { ...options, idPrefix: 'rollback' });
      if (!handle) return;
      const result: RollbackResult = await awaitRun(context, handle, { intervalMs: 2_000 });
      printResult(result, Boolean(options.json), () => [
        result.changed
          ? `endpoint ${result.endpointName} serves ${result.toConfigName} again (was ${result.fromConfigName})`
          : `endpoint ${result.endpointName} already serves ${result.toConfigName}: nothing to do`,
      ]);
    });
}
