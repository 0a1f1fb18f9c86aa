import { createPrepareDataActivities } from '../activities/data/prepare-data';
import { createIdleActivities } from '../activities/idle';
import { createFineTuneActivities } from '../activities/fine-tune';
import { createStackCheckActivities } from '../activities/stack-check';
import type { LlmtwinConfig } from '../common/config';
import type { WorkerRole } from '../common/task-queues';
import type { AwsClients } from '../platform/aws-clients';

export interface ActivityDeps {
  config: LlmtwinConfig;
  aws: AwsClients;
}

/**
 * The activities each task queue serves, built once from shared clients. Control: AWS control plane
 * and polling. Data: CPU-heavy dataset work. Each stage adds its factory to the right list.
 */
export function activitiesFor(role: WorkerRole, { config, aws }: ActivityDeps): object {
  switch (role) {
    case 'control':
      return {
        ...createStackCheckActivities({ s3: aws.s3, bucket: config.s3.bucket, prefix: config.s3.prefix, region: config.aws.region }),
        ...createFineTuneActivities({ sagemaker: aws.sagemaker, s3: aws.s3, secretsManager: aws.secretsManager, config }),
        ...createIdleActivities({ sagemaker: aws.sagemaker, cloudwatch: aws.cloudwatch, autoscaling: aws.autoscaling, pricing: config.pricing }),
      };
    case 'data':
      return {
        ...createPrepareDataActivities({ s3: aws.s3, bucket: config.s3.bucket, prefix: config.s3.prefix, region: config.aws.region, generator: config.generator }),
      };
  }
}
