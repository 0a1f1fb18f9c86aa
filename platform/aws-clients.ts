import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { effectiveAwsEndpoint, type LlmtwinConfig } from '../common/config';

/**
 * One client per AWS service, built once per process. Region and endpoint override come from config;
 * credentials from the standard chain (env, profile, SSO, instance role). Against the local moto
 * stack the SDK still needs some credentials, so dummy ones are used when none are configured.
 */
export interface AwsClients {
  s3: S3Client;
  sagemaker: SageMakerClient;
  sagemakerRuntime: SageMakerRuntimeClient;
  cloudwatch: CloudWatchClient;
  autoscaling: ApplicationAutoScalingClient;
  secretsManager: SecretsManagerClient;
}

export interface AwsClientOverrides {
  /** Attempts per call inside the SDK; tests against moto use 1 so unsupported calls fail fast. */
  maxAttempts?: number;
}

const LOCAL_CREDENTIALS = { accessKeyId: 'llmtwin-local', secretAccessKey: 'llmtwin-local' };

export function createAwsClients(
  config: LlmtwinConfig,
  overrides: AwsClientOverrides = {},
  env: NodeJS.ProcessEnv = process.env,
): AwsClients {
  const endpoint = effectiveAwsEndpoint(config);
  const hasOwnCredentials = Boolean(
    env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
  );
  const common = {
    region: config.aws.region,
    maxAttempts: overrides.maxAttempts ?? config.aws.maxAttempts,
    retryMode: 'standard',
    ...(endpoint ? { endpoint } : {}),
    ...(config.aws.target === 'local' && !hasOwnCredentials ? { credentials: LOCAL_CREDENTIALS } : {}),
  };
  return {
    // Path-style addressing when the endpoint is overridden: moto (and most emulators) cannot do
    // virtual-hosted buckets on 127.0.0.1.
    s3: new S3Client({ ...common, forcePathStyle: Boolean(endpoint) }),
    sagemaker: new SageMakerClient(common),
    sagemakerRuntime: new SageMakerRuntimeClient(common),
    cloudwatch: new CloudWatchClient(common),
    autoscaling: new ApplicationAutoScalingClient(common),
    secretsManager: new SecretsManagerClient(common),
  };
}

export function destroyAwsClients(clients: AwsClients): void {
  for (const client of Object.values(clients) as Array<{ destroy(): void }>) client.destroy();
}
