import {
  CreateProcessingJobCommand,
  DescribeProcessingJobCommand,
  StopProcessingJobCommand,
  type CreateProcessingJobCommandInput,
  type DescribeProcessingJobCommandOutput,
} from '@aws-sdk/client-sagemaker';
import { isAlreadyExists, isNotFound } from '../aws/errors';
import type { SageMakerSender } from '../aws/clients';

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
}

export function sageMakerProcessingCompute(sagemaker: SageMakerSender, region: string): ProcessingCompute {
  return {
    backend: 'sagemaker',
    async describe(jobName, abortSignal) {
      try {
        return await sagemaker.send(new DescribeProcessingJobCommand({ ProcessingJobName: jobName }), { abortSignal });
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async create(request, abortSignal) {
      try {
        await sagemaker.send(new CreateProcessingJobCommand(request), { abortSignal });
        return 'created';
      } catch (error) {
        if (isAlreadyExists(error)) return 'exists';
        throw error;
      }
    },
    async stop(jobName) {
      await sagemaker.send(new StopProcessingJobCommand({ ProcessingJobName: jobName }));
    },
    logLocation: (jobName) => `CloudWatch Logs, group /aws/sagemaker/ProcessingJobs, streams ${jobName}/algo-1-* (region ${region})`,
  };
}
