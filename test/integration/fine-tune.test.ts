import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeTrainingJobCommand, ListTrainingJobsCommand } from '@aws-sdk/client-sagemaker';
import { ensureBucket } from '../../activities/aws/s3';
import { FINE_TUNE_WORKFLOW_TYPE, type FineTuneInput, type FineTuneWorkflow } from '../../common/fine-tune/contract';
import { parseS3Uri } from '../../common/shared/naming';
import { manifestFor } from '../helpers/fake-training-jobs';
import { testConfig } from '../helpers/stack';
import { useStackWorkers } from '../helpers/stack-workers';
import { uniqueId } from '../helpers/temporal';

// The real dev server, a worker built as workers/main.ts builds it, and moto's S3 and SageMaker (compute.backend sagemaker).
// moto completes training jobs instantly and silently overwrites a duplicate name, so "created once"
// is asserted by counting CreateTrainingJob calls (SDK middleware) and by the job's CreationTime.
describe('fine-tune on the real dev server and moto', () => {
  let creates = 0;
  const stack = useStackWorkers({
    roles: ['control'],
    // The SageMaker backend, against moto (local compute has its own tests: fine-tune-local*.test.ts).
    config: () => testConfig({ LLMTWIN_COMPUTE_BACKEND: 'sagemaker' }),
    beforeStart: (aws) =>
      aws.sagemaker.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'CreateTrainingJobCommand') creates += 1;
          return next(args);
        },
        { step: 'initialize', name: 'countCreateTrainingJob' },
      ),
  });

  it('creates the training job once; a second run reuses it instead of creating another', async () => {
    const { aws, config } = stack;
    // What prepare-data leaves behind: two JSONL files and the manifest, under datasets/<hash>/.
    const hash = '0123456789abcdef'.repeat(4);
    const manifest = manifestFor(hash, 2);
    const datasetUri = `s3://${config.s3.bucket}/llmtwin/datasets/${hash}/`;
    const rewrite = (uri: string) => uri.replace('s3://llmtwin-test/', `s3://${config.s3.bucket}/`);
    manifest.files.train.uri = rewrite(manifest.files.train.uri);
    manifest.files.test.uri = rewrite(manifest.files.test.uri);
    await ensureBucket(aws.s3, config.s3.bucket, config.aws.region);
    const put = (uri: string, body: string) =>
      aws.s3.send(new PutObjectCommand({ Bucket: parseS3Uri(uri).bucket, Key: parseS3Uri(uri).key, Body: body }));
    await put(
      manifest.files.train.uri,
      '{"instruction":"Write about the sea.","output":"The sea is grey."}\n{"instruction":"Write.","output":"Yes."}\n',
    );
    await put(manifest.files.test.uri, '{"instruction":"Write about rain.","output":"Rain is soft."}\n');
    await put(`${datasetUri}manifest.json`, JSON.stringify(manifest));

    const input: FineTuneInput = { datasetUri, instanceType: 'ml.m5.large', instanceFallbacks: [], hyperparameters: { epochs: 1 } };
    const execute = () =>
      stack.client.workflow.execute<FineTuneWorkflow>(FINE_TUNE_WORKFLOW_TYPE, {
        taskQueue: stack.queues.control,
        workflowId: uniqueId('fine-tune'),
        args: [input],
      });

    const first = await execute();
    expect(first).toMatchObject({
      datasetHash: hash,
      instanceType: 'ml.m5.large',
      reused: false,
      baseModelId: 'Qwen/Qwen2.5-1.5B-Instruct',
    });
    expect(first.artifactsUri).toBe(`s3://${config.s3.bucket}/llmtwin/training/${first.jobName}/output/model.tar.gz`);
    expect(creates).toBe(1);
    const created = await aws.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: first.jobName }));
    expect(created.HyperParameters?.sagemaker_program).toBe('"train.py"');
    // The entry point the job runs is in S3 where the job looks for it.
    const codeUri = JSON.parse(created.HyperParameters?.sagemaker_submit_directory ?? '""') as string;
    await aws.s3.send(new HeadObjectCommand({ Bucket: parseS3Uri(codeUri).bucket, Key: parseS3Uri(codeUri).key }));

    const second = await execute();
    expect(second).toMatchObject({ jobName: first.jobName, reused: true, artifactsUri: first.artifactsUri });
    expect(creates).toBe(1);
    const jobs = await aws.sagemaker.send(new ListTrainingJobsCommand({}));
    expect(jobs.TrainingJobSummaries?.map((job) => job.TrainingJobName)).toEqual([first.jobName]);
    const after = await aws.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: first.jobName }));
    expect(after.CreationTime).toEqual(created.CreationTime);
  });
});
