import type { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * What the activities need of each AWS client: `send`, and nothing else, so tests pass
 * aws-sdk-client-mock, a scripted fake or a moto-backed client alike. Declared once for every stage.
 */
export type SageMakerSender = Pick<SageMakerClient, 'send'>;
export type S3Sender = Pick<S3Client, 'send'>;
export type CloudWatchSender = Pick<CloudWatchClient, 'send'>;
export type AutoScalingSender = Pick<ApplicationAutoScalingClient, 'send'>;
export type SecretsSender = Pick<SecretsManagerClient, 'send'>;
export type SageMakerRuntimeSender = Pick<SageMakerRuntimeClient, 'send'>;
