import { PIPELINE_WORKFLOW_TYPE, type PipelineInput, type PipelineWorkflow } from '../../common/pipeline/contract';
import { sageMakerConsoleUrl } from '../../common/shared/console-links';
import { PROJECT_ROOT } from '../../platform/paths';
import { resultLines } from '../../scripts/commands/pipeline';
import { emulateJobOutputs, queueEndpointAnswer, SAGEMAKER_ON_MOTO } from '../helpers/moto-job-outputs';
import { motoUrl, testConfig } from '../helpers/stack';
import { useStackWorkers } from '../helpers/stack-workers';
import { uniqueId } from '../helpers/temporal';

// twinPipeline on SageMaker compute against moto: a training job, a processing job and an endpoint
// made once each, each stage pointing at its AWS console page; again on the same input, nothing made.
// moto runs no container: the evaluation job's report and the endpoint's answer are what it is given.
jest.setTimeout(120_000);

const creates: Record<string, number> = {};
const stack = useStackWorkers({
  roles: ['control', 'data'],
  config: () => testConfig(SAGEMAKER_ON_MOTO),
  beforeStart: (aws) => {
    emulateJobOutputs(aws);
    aws.sagemaker.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName?.startsWith('Create')) creates[context.commandName] = (creates[context.commandName] ?? 0) + 1;
        return next(args);
      },
      { step: 'initialize', name: 'countCreates' },
    );
  },
});

const run = (input: PipelineInput) =>
  stack.client.workflow.execute<PipelineWorkflow>(PIPELINE_WORKFLOW_TYPE, {
    taskQueue: stack.queues.control,
    workflowId: uniqueId('pipeline-sm'),
    args: [input],
  });

it('makes one training job, one processing job and one endpoint, each linked to its AWS console page; a rerun makes nothing', async () => {
  await queueEndpointAnswer(motoUrl());
  const input: PipelineInput = {
    source: { kind: 'local', path: `${PROJECT_ROOT}/examples/corpus` },
    twin: uniqueId('wren'),
    deploy: { monitor: { enabled: false } },
  };
  const result = await run(input);

  expect(result.outcome).toBe('served');
  expect(result.model.compute).toBe('sagemaker');
  const region = stack.config.aws.region;
  const links = Object.fromEntries(result.stages.map((stage) => [stage.stage, stage.links?.console]));
  expect(links).toEqual({
    'prepare-data': undefined,
    'fine-tune': sageMakerConsoleUrl(region, 'training-job', result.model.jobName),
    evaluate: links.evaluate,
    deploy: sageMakerConsoleUrl(region, 'endpoint', result.deployment!.endpointName),
  });
  expect(links.evaluate).toMatch(new RegExp(`^https://${region}\\.console\\.aws\\.amazon\\.com/.*#/processing-jobs/llmtwin-eval-`));
  expect(resultLines(result).join('\n')).toContain(`console: ${links['fine-tune']}`);
  const made = { ...creates };
  expect(made).toMatchObject({
    CreateTrainingJobCommand: 1,
    CreateProcessingJobCommand: 1,
    CreateModelCommand: 1,
    CreateEndpointConfigCommand: 1,
    CreateEndpointCommand: 1,
  });

  const again = await run(input);
  expect(again.stages.map((stage) => stage.status)).toEqual(['reused', 'reused', 'reused', 'reused']);
  expect(again.stages.find((stage) => stage.stage === 'fine-tune')?.links?.console).toBe(links['fine-tune']);
  expect(creates).toEqual(made);
});
