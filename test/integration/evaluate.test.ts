import { GetObjectCommand } from '@aws-sdk/client-s3';
import { DescribeModelPackageCommand, ListModelPackagesCommand } from '@aws-sdk/client-sagemaker';
import { EVALUATE_WORKFLOW_TYPE, type EvaluateInput, type EvaluateWorkflow } from '../../common/evaluate/contract';
import { GATE_METRICS } from '../../common/evaluate/gate';
import { modelPackageGroupName } from '../../common/evaluate/registry';
import { parseS3Uri } from '../../common/shared/naming';
import { cliEnv, runCli } from '../helpers/cli';
import { scratchJobsDir } from '../helpers/local-jobs';
import { prepareExampleDataset, startFineTune } from '../helpers/local-training';
import { testConfig } from '../helpers/stack';
import { useStackWorkers } from '../helpers/stack-workers';
import { uniqueId } from '../helpers/temporal';

// The whole stage on local compute and moto: the toy trained by fine-tune for real, then evaluated for
// real by jobs/evaluate (twin and base on this CPU), gated, and registered as a version in moto's model
// registry; a rerun reuses the job and the version; the CLI lists and shows it.
jest.setTimeout(600_000);

const jobsDir = scratchJobsDir();
const config = testConfig({ LLMTWIN_LOCAL_JOBS_DIR: jobsDir });
const stack = useStackWorkers({ roles: ['control', 'data'], config: () => config });
const twin = uniqueId('wren');
let trainingJobName: string;

beforeAll(async () => {
  const datasetUri = await prepareExampleDataset(stack.client, stack.queues.control);
  trainingJobName = (await (await startFineTune(stack.client, stack.queues.control, { datasetUri })).result()).jobName;
});

function evaluate(input: Partial<EvaluateInput>) {
  return stack.client.workflow.execute<EvaluateWorkflow>(EVALUATE_WORKFLOW_TYPE, {
    taskQueue: stack.queues.control,
    workflowId: uniqueId('evaluate'),
    // Short answers keep the CPU run to seconds; the scoring is the same.
    args: [{ twin, trainingJobName, decoding: { maxNewTokens: 48 }, ...input }],
  });
}

async function versions() {
  const group = modelPackageGroupName(config.resourceNamePrefix, twin);
  return (await stack.aws.sagemaker.send(new ListModelPackagesCommand({ ModelPackageGroupName: group }))).ModelPackageSummaryList ?? [];
}

it('scores the trained toy against its base, gates it and registers one Approved version with its metrics; a rerun reuses both', async () => {
  const result = await evaluate({ gate: { thresholds: { perplexity: 1_000 } } });

  expect(result).toMatchObject({ decision: 'approved', reasons: [], compute: 'local', baseModelId: 'llmtwin-toy', reused: false });
  for (const label of ['twin', 'base'] as const) {
    for (const metric of ['perplexity', 'rouge_l', 'style_cosine_delta', 'style_char_ngram_distance'] as const)
      expect(Number.isFinite(result.metrics[label][metric])).toBe(true);
  }
  // Trained on the author's writing, the twin predicts the author's held-out answers far better than its random base.
  expect(result.metrics.twin.perplexity as number).toBeLessThan((result.metrics.base.perplexity as number) / 2);
  expect(result.samplesScored).toBeGreaterThan(0);

  // The report beside the model, as the job wrote it, with the training loss curve read from the training job's output.
  const { bucket, key } = parseS3Uri(result.evaluationUri);
  const report = JSON.parse(
    await (await stack.aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString(),
  ) as {
    training_loss: unknown[];
    samples: unknown[];
  };
  expect(report.training_loss.length).toBeGreaterThan(1);
  expect(report.samples).toHaveLength(result.samplesScored);

  // One version in the twin's group: Approved, its metrics in the metadata, ModelMetrics pointing at the report.
  const [summary, ...others] = await versions();
  expect(others).toEqual([]);
  const pkg = await stack.aws.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: summary!.ModelPackageArn }));
  expect(pkg).toMatchObject({
    ModelApprovalStatus: 'Approved',
    ModelMetrics: { ModelQuality: { Statistics: { S3Uri: result.evaluationUri } } },
    InferenceSpecification: { Containers: [{ ModelDataUrl: result.modelUri }] },
  });
  expect(Number(pkg.CustomerMetadataProperties?.['twin.perplexity'])).toBeCloseTo(result.metrics.twin.perplexity as number, 3);
  expect(pkg.CustomerMetadataProperties?.['llmtwin:training-job']).toBe(trainingJobName);
  expect(result.modelVersion).toMatchObject({ arn: summary!.ModelPackageArn, version: 1, status: 'Approved' });

  // The same evaluation with a bound it fails: nothing runs again, the same version follows the new verdict.
  const strict = await evaluate({ gate: { thresholds: { perplexity: 1.01 } } });
  expect(strict).toMatchObject({
    decision: 'rejected',
    reused: true,
    jobName: result.jobName,
    modelVersion: { arn: summary!.ModelPackageArn },
  });
  expect(strict.reasons[0]).toMatch(/^perplexity <= 1\.01: perplexity is /);
  expect(await versions()).toHaveLength(1);
  expect(
    (await stack.aws.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: summary!.ModelPackageArn }))).ModelApprovalStatus,
  ).toBe('Rejected');

  // What a person sees: the version with its metrics, twin beside base.
  const env = cliEnv(config, { LLMTWIN_LOCAL_JOBS_DIR: jobsDir });
  const listed = await runCli(['models', 'list', '--twin', twin], env);
  expect(listed.code).toBe(0);
  expect(listed.stdout).toMatch(/^1\s+Rejected\s+\d/m);
  const shown = await runCli(['models', 'show', '1', '--twin', twin, '--json'], env);
  expect(shown.code).toBe(0);
  expect(JSON.parse(shown.stdout)).toMatchObject({
    version: 1,
    status: 'Rejected',
    report: result.reportUri,
    trainingJob: trainingJobName,
  });
  const { twinMetrics } = JSON.parse(shown.stdout) as { twinMetrics: Record<string, number> };
  expect(twinMetrics.perplexity).toBeCloseTo(result.metrics.twin.perplexity as number, 3);
  expect(Object.keys(twinMetrics).every((name) => (GATE_METRICS as readonly string[]).includes(name))).toBe(true);
});

it('refuses a training job that does not exist, naming the field, before anything runs', async () => {
  const error = await evaluate({ trainingJobName: 'llmtwin-train-no-such-job' }).catch((failure: unknown) => failure as Error);
  expect(String((error as Error & { cause?: { cause?: Error } }).cause?.cause?.message)).toContain(
    'trainingJobName: no training job llmtwin-train-no-such-job on this machine',
  );
});
