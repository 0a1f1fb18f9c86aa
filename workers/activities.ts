import type { LlmtwinConfig } from '../common/config';
import type { WorkerRole } from '../common/shared/task-queues';
import { durationToMs } from '../common/shared/durations';
import type { AwsClients } from '../platform/aws-clients';
import type * as deployModule from '../activities/deploy';
import type * as evaluateModule from '../activities/evaluate';
import type * as fineTuneModule from '../activities/fine-tune';
import type * as idleModule from '../activities/idle';
import type * as idleValidationModule from '../activities/idle/validation';
import type * as prepareDataModule from '../activities/prepare-data';
import type * as datasetWaitModule from '../activities/prepare-data/await-dataset';
import type * as stackCheckModule from '../activities/stack-check';

export interface ActivityDeps {
  config: LlmtwinConfig;
  aws: AwsClients;
}

interface StageActivities {
  stage: string;
  /** The task queues whose workers serve this stage's activities. */
  roles: readonly WorkerRole[];
  create: (deps: ActivityDeps) => object;
}

/* eslint-disable @typescript-eslint/no-require-imports -- each role loads only its own stages' code */
/**
 * The role table: one line per stage, naming the worker roles that serve its activities and how they
 * are built from the shared clients. Factories are required lazily, so a worker that serves one role
 * does not load the others' code (the data stage's alone is about 20 MB of RSS).
 */
const STAGES: readonly StageActivities[] = [
  {
    stage: 'stack-check',
    roles: ['control'],
    create: ({ config, aws }) =>
      (require('../activities/stack-check') as typeof stackCheckModule).createStackCheckActivities({
        s3: aws.s3,
        bucket: config.s3.bucket,
        prefix: config.s3.prefix,
        region: config.aws.region,
      }),
  },
  {
    stage: 'prepare-data',
    roles: ['data'],
    create: ({ config, aws }) =>
      (require('../activities/prepare-data') as typeof prepareDataModule).createPrepareDataActivities({
        s3: aws.s3,
        bucket: config.s3.bucket,
        prefix: config.s3.prefix,
        region: config.aws.region,
        generator: config.generator,
        sources: config.sources,
        threads: config.prepareData.threads,
        checkpointEveryMs: durationToMs(config.prepareData.checkpointEvery),
      }),
  },
  {
    stage: 'prepare-data',
    // A run waiting for a dataset another run builds only reads S3: on control, holding no data slot.
    roles: ['control'],
    create: ({ config, aws }) =>
      (require('../activities/prepare-data/await-dataset') as typeof datasetWaitModule).createDatasetWaitActivities({
        s3: aws.s3,
        bucket: config.s3.bucket,
        prefix: config.s3.prefix,
      }),
  },
  {
    stage: 'fine-tune',
    roles: ['control'],
    create: ({ config, aws }) =>
      (require('../activities/fine-tune') as typeof fineTuneModule).createFineTuneActivities({
        sagemaker: aws.sagemaker,
        s3: aws.s3,
        secretsManager: aws.secretsManager,
        config,
      }),
  },
  {
    stage: 'evaluate',
    roles: ['control'],
    create: ({ config, aws }) =>
      (require('../activities/evaluate') as typeof evaluateModule).createEvaluateActivities({
        sagemaker: aws.sagemaker,
        s3: aws.s3,
        config,
      }),
  },
  {
    stage: 'deploy',
    roles: ['control'],
    create: ({ config, aws }) =>
      (require('../activities/deploy') as typeof deployModule).createDeployActivities({
        sagemaker: aws.sagemaker,
        autoscaling: aws.autoscaling,
        runtime: aws.sagemakerRuntime,
        config,
      }),
  },
  {
    stage: 'idle',
    // The control worker keeps serving monitors started on its queue before the idle queue existed.
    roles: ['idle', 'control'],
    create: ({ config, aws }) => ({
      ...(require('../activities/idle') as typeof idleModule).createIdleActivities({
        sagemaker: aws.sagemaker,
        cloudwatch: aws.cloudwatch,
        autoscaling: aws.autoscaling,
        pricing: config.pricing,
        resourceNamePrefix: config.resourceNamePrefix,
      }),
      ...(require('../activities/idle/validation') as typeof idleValidationModule).createIdleValidationActivities(),
    }),
  },
];
/* eslint-enable @typescript-eslint/no-require-imports */

/** The activities a role's worker registers, built once from the shared clients. */
export function activitiesFor(role: WorkerRole, deps: ActivityDeps): object {
  return Object.assign({}, ...STAGES.filter((entry) => entry.roles.includes(role)).map((entry) => entry.create(deps))) as object;
}
