import {
  CreateProcessingJobCommand,
  DescribeProcessingJobCommand,
  StopProcessingJobCommand,
  type CreateProcessingJobCommandInput,
  type DescribeProcessingJobCommandOutput,
} from '@aws-sdk/client-sagemaker';
import { createdOrExists, undefinedIfNotFound } from '../aws/errors';
import type { SageMakerSender } from '../aws/clients';
import { readTags } from '../aws/endpoints';
import { sageMakerConsoleUrl } from '../../common/shared/console-links';

/**
 * The evaluate stage's compute port: a processing job, on SageMaker or as a local process under the
 * processing container contract. Like fine-tune's port it speaks SageMaker's own shapes, so the
 * judgement above it is one piece of code for both backends; errors are thrown as they come.
 */
export interface ProcessingCompute {
  readonly backend: 'sagemaker' | 'local';
  describe(jobName: string, abortSignal?: AbortSignal): Promise<DescribeProcessingJobCommandOutput | undefined>;
  create(request: CreateProcessingJobCommandInput, abortSignal?: AbortSignal): Promise<'created' | 'exists'>;
  stop(jobName: string): Promise<void>;
  logLocation(jobName: string): string;
  /** The job's page in the AWS console; undefined where there is none (local jobs). */
  consoleUrl(jobName: string): string | undefined;
  /** The job's tags (ListTags); undefined when there is no such job. */
  tags(jobName: string): Promise<Map<string, string> | undefined>;
}

export function sageMakerProcessingCompute(sagemaker: SageMakerSender, region: string): ProcessingCompute {
  return {
    backend: 'sagemaker',
    describe: (jobName, abortSignal) =>
      undefinedIfNotFound(() => sagemaker.send(new DescribeProcessingJobCommand({ ProcessingJobName: jobName }), { abortSignal })),
    create: (request, abortSignal) => createdOrExists(() => sagemaker.send(new CreateProcessingJobCommand(request), { abortSignal })),
    async stop(jobName) {
      await sagemaker.send(new StopProcessingJobCommand({ ProcessingJobName: jobName }));
    },
    logLocation: (jobName) => `CloudWatch Logs, group /aws/sagemaker/ProcessingJobs, streams ${jobName}/algo-1-* (region ${region})`,
    consoleUrl: (jobName) => sageMakerConsoleUrl(region, 'processing-job', jobName),
    async tags(jobName) {
      const job = await undefinedIfNotFound(() => sagemaker.send(new DescribeProcessingJobCommand({ ProcessingJobName: jobName })));
      return job?.ProcessingJobArn ? readTags(sagemaker, job.ProcessingJobArn) : undefined;
    },
  };
}
