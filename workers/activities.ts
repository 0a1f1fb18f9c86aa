import type { LlmtwinConfig } from '../common/config';
import type { WorkerRole } from '../common/shared/task-queues';
import type { AwsClients } from '../platform/aws-clients';
import type * as prepareDataModule from '../activities/prepare-data';
import type * as fineTuneModule from '../activities/fine-tune';
import type * as idleModule from '../activities/idle';
import type * as idleValidationModule from '../activities/idle/validation';
import type * as stackCheckModule from '../activities/stack-check';

export interface ActivityDeps {
  config: LlmtwinConfig;
  aws: AwsClients;
}

/* eslint-disable @typescript-eslint/no-require-imports -- each role loads only its own stages' code */
/**
 * The activities each task queue serves, built once from shared clients. Control: AWS control plane
 * and polling. Data: CPU-heavy dataset work. Idle: the idle stage's reads, teardowns and checks. Each
 * stage adds its factory to the right list. Factories are required per role, so a worker that serves
 * one role does not load the others' code (the data stage's alone is about 20 MB of RSS).
 */
export function activitiesFor(role: WorkerRole, { config, aws }: ActivityDeps): object {
  const idle = () => ({
    ...(require('../activities/idle') as typeof idleModule).createIdleActivities({
      sagemaker: aws.sagemaker,
      cloudwatch: aws.cloudwatch,
      autoscaling: aws.autoscaling,
      pricing: config.pricing,
    }),
    ...(require('../activities/idle/validation') as typeof idleValidationModule).createIdleValidationActivities(),
  });
  switch (role) {
    case 'control': {
      const { createStackCheckActivities } = require('../activities/stack-check') as typeof stackCheckModule;
      const { createFineTuneActivities } = require('../activities/fine-tune') as typeof fineTuneModule;
      return {
        ...createStackCheckActivities({ s3: aws.s3, bucket: config.s3.bucket, prefix: config.s3.prefix, region: config.aws.region }),
        ...createFineTuneActivities({ sagemaker: aws.sagemaker, s3: aws.s3, secretsManager: aws.secretsManager, config }),
        // Monitors started on this queue before the idle queue existed keep running here.
        ...idle(),
      };
    }
    case 'idle':
      return idle();
    case 'data': {
      const { createPrepareDataActivities } = require('../activities/prepare-data') as typeof prepareDataModule;
      return createPrepareDataActivities({ s3: aws.s3, bucket: config.s3.bucket, prefix: config.s3.prefix, region: config.aws.region, generator: config.generator });
    }
  }
}
/* eslint-enable @typescript-eslint/no-require-imports */
