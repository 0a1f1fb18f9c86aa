import {
  AddTagsCommand,
  CreateTrainingJobCommand,
  DeleteTagsCommand,
  DescribeTrainingJobCommand,
  StopTrainingJobCommand,
  type CreateTrainingJobCommandInput,
  type DescribeTrainingJobCommandOutput,
} from '@aws-sdk/client-sagemaker';
import { createdOrExists, undefinedIfNotFound } from '../aws/errors';
import type { SageMakerSender } from '../aws/clients';
import { readTags } from '../aws/endpoints';
import { sageMakerConsoleUrl } from '../../common/shared/console-links';

/**
 * The fine-tune stage's compute port: what its activities ask of wherever training jobs run. It speaks
 * SageMaker's own request and description shapes, so the judgement on top (adopt, reuse, mismatch,
 * capacity, failure messages) is one piece of code for both backends. Errors are thrown as they come
 * (AWS SDK errors from SageMaker), for the callers' classifier.
 */
export interface TrainingCompute {
  readonly backend: 'sagemaker' | 'local';
  /** The job, or undefined when none has that name. */
  describe(jobName: string, abortSignal?: AbortSignal): Promise<TrainingJobDescription | undefined>;
  /** Creates the job; `exists` when a job of that name is already there (the caller describes and judges it). */
  create(request: CreateTrainingJobCommandInput, abortSignal?: AbortSignal): Promise<'created' | 'exists'>;
  /** Asks a running job to stop (SIGTERM, the grace, SIGKILL); the caller polls until it has. */
  stop(jobName: string): Promise<void>;
  /** Where a person reads the job's log. */
  logLocation(jobName: string): string;
  /** The job's page in the AWS console; undefined where there is none (local jobs). */
  consoleUrl(jobName: string): string | undefined;
  /** The job's tags, or undefined when there is no such job. */
  tags(jobName: string): Promise<Map<string, string> | undefined>;
  /** Adds (or replaces) tags on an existing job. */
  tag(jobName: string, tags: Record<string, string>): Promise<void>;
  /** Removes tags from an existing job; keys it does not have are fine. */
  untag(jobName: string, keys: string[]): Promise<void>;
}

/** DescribeTrainingJob's answer, plus what the local backend also reads from the job's log. */
export type TrainingJobDescription = DescribeTrainingJobCommandOutput & {
  Progress?: { step: number; total: number };
  /** The first value of each metric (the local backend reads them from the log; SageMaker keeps only the last). */
  FirstMetrics?: Record<string, number>;
};

export function sageMakerTrainingCompute(sagemaker: SageMakerSender, region: string): TrainingCompute {
  // Tags are addressed by ARN, which a describe or a create answers (the account is not in config):
  // kept per job name, so tagging a job this process just described or created costs no extra call.
  const arns = new Map<string, string>();
  const remember = <T extends { TrainingJobArn?: string } | undefined>(jobName: string, answer: T): T => {
    if (answer?.TrainingJobArn) arns.set(jobName, answer.TrainingJobArn);
    return answer;
  };
  const describe = async (jobName: string, abortSignal?: AbortSignal) =>
    remember(
      jobName,
      await undefinedIfNotFound(() => sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: jobName }), { abortSignal })),
    );
  const arnOf = async (jobName: string) => arns.get(jobName) ?? (await describe(jobName))?.TrainingJobArn;
  return {
    backend: 'sagemaker',
    describe,
    create: (request, abortSignal) =>
      createdOrExists(async () => {
        remember(request.TrainingJobName as string, await sagemaker.send(new CreateTrainingJobCommand(request), { abortSignal }));
      }),
    async stop(jobName) {
      await sagemaker.send(new StopTrainingJobCommand({ TrainingJobName: jobName }));
    },
    logLocation: (jobName) =>
      `CloudWatch Logs, group /aws/sagemaker/TrainingJobs, streams ${jobName}/algo-1-* (https://console.aws.amazon.com/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/$252Faws$252Fsagemaker$252FTrainingJobs)`,
    consoleUrl: (jobName) => sageMakerConsoleUrl(region, 'training-job', jobName),
    async tags(jobName) {
      const arn = await arnOf(jobName);
      return arn ? readTags(sagemaker, arn) : undefined;
    },
    async tag(jobName, tags) {
      const arn = await arnOf(jobName);
      if (arn)
        await sagemaker.send(new AddTagsCommand({ ResourceArn: arn, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
    },
    async untag(jobName, keys) {
      const arn = await arnOf(jobName);
      if (arn && keys.length > 0) await sagemaker.send(new DeleteTagsCommand({ ResourceArn: arn, TagKeys: keys }));
    },
  };
}
