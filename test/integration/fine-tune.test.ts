import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeTrainingJobCommand, ListTrainingJobsCommand } from '@aws-sdk/client-sagemaker';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { ensureBucket } from '../../activities/aws/s3';
import { parseS3Uri } from '../../common/shared/naming';
import { taskQueuesFor } from '../../common/shared/task-queues';
import type { FineTuneInput } from '../../common/fine-tune/contract';
import { destroyAwsClients } from '../../platform/aws-clients';
import { buildWorkers } from '../../workers/run-workers';
import { fineTune } from '../../workflows/fine-tune';
import { manifestFor } from '../helpers/fake-training-jobs';
import { resetMoto, testAwsClients, testConfig } from '../helpers/stack';
import { uniqueId, workflowBundlePaths } from '../helpers/temporal';

// The real dev server, a worker built as workers/main.ts builds it, and moto's S3 and SageMaker.
// moto completes training jobs instantly and silently overwrites a duplicate name, so "created once"
// is asserted by counting CreateTrainingJob calls (SDK middleware) and by the job's CreationTime.
describe('fine-tune on the real dev server and moto', () => {
  beforeEach(resetMoto);

  it('creates the training job once; a second run reuses it instead of creating another', async () => {
    const config = testConfig();
    const aws = testAwsClients(config);
    let creates = 0;
    aws.sagemaker.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'CreateTrainingJobCommand') creates += 1;
        return next(args);
      },
      { step: 'initialize', name: 'countCreateTrainingJob' },
    );
    const workerConnection = await NativeConnection.connect({ address: config.temporal.address });
    const clientConnection = await Connection.connect({ address: config.temporal.address });
    const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
    try {
      // What prepare-data leaves behind: two JSONL files and the manifest, under datasets/<hash>/.
      const hash = '0123456789abcdef'.repeat(4);
      const manifest = manifestFor(hash, 2);
      const datasetUri = `s3://${config.s3.bucket}/llmtwin/datasets/${hash}/`;
      const rewrite = (uri: string) => uri.replace('s3://llmtwin-test/', `s3://${config.s3.bucket}/`);
      manifest.files.train.uri = rewrite(manifest.files.train.uri);
      manifest.files.test.uri = rewrite(manifest.files.test.uri);
      await ensureBucket(aws.s3, config.s3.bucket, config.aws.region);
      const put = (uri: string, body: string) => aws.s3.send(new PutObjectCommand({ Bucket: parseS3Uri(uri).bucket, Key: parseS3Uri(uri).key, Body: body }));
      await put(manifest.files.train.uri, '{"instruction":"Write about the sea.","output":"The sea is grey."}\n{"instruction":"Write.","output":"Yes."}\n');
      await put(manifest.files.test.uri, '{"instruction":"Write about rain.","output":"Rain is soft."}\n');
      await put(`${datasetUri}manifest.json`, JSON.stringify(manifest));

      const workers = await buildWorkers({ config, roles: ['control'], aws, connection: workerConnection, workflowBundlePaths: workflowBundlePaths() });
      const input: FineTuneInput = { datasetUri, instanceType: 'ml.m5.large', instanceFallbacks: [], hyperparameters: { epochs: 1 } };
      const execute = () =>
        client.workflow.execute(fineTune, { taskQueue: taskQueuesFor(config.temporal.taskQueue).control, workflowId: uniqueId('fine-tune'), args: [input] });

      const worker = workers[0]!;
      await worker.runUntil(async () => {
        const first = await execute();
        expect(first).toMatchObject({ datasetHash: hash, instanceType: 'ml.m5.large', reused: false, baseModelId: 'Qwen/Qwen2.5-1.5B-Instruct' });
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
    } finally {
      destroyAwsClients(aws);
      await clientConnection.close();
      await workerConnection.close();
    }
  });
});
