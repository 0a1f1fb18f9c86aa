import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { effectiveAwsEndpoint, type LlmtwinConfig } from '../common/config';
import { PerCallRetryStrategy } from './aws-retry';

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

/** Where AWS is and how to reach it: what a process needs to build its clients (a local job's supervisor too). */
export interface AwsConnection {
  target: 'local' | 'aws';
  region: string;
  /** The effective endpoint (moto's on the embedded stack), undefined for AWS's own. */
  endpointUrl?: string;
  maxAttempts: number;
}

export function awsConnectionOf(config: LlmtwinConfig, overrides: AwsClientOverrides = {}): AwsConnection {
  const endpointUrl = effectiveAwsEndpoint(config);
  return {
    target: config.aws.target,
    region: config.aws.region,
    ...(endpointUrl ? { endpointUrl } : {}),
    maxAttempts: overrides.maxAttempts ?? config.aws.maxAttempts,
  };
}

function clientSettings(connection: AwsConnection, env: NodeJS.ProcessEnv) {
  const hasOwnCredentials = Boolean(
    env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
  );
  return {
    region: connection.region,
    retryStrategy: new PerCallRetryStrategy(connection.maxAttempts),
    ...(connection.endpointUrl ? { endpoint: connection.endpointUrl } : {}),
    ...(connection.target === 'local' && !hasOwnCredentials ? { credentials: LOCAL_CREDENTIALS } : {}),
  };
}

/** An S3 client alone: path-style addressing when the endpoint is overridden (moto cannot do virtual-hosted buckets on 127.0.0.1). */
export function createS3Client(connection: AwsConnection, env: NodeJS.ProcessEnv = process.env): S3Client {
  return new S3Client({ ...clientSettings(connection, env), forcePathStyle: Boolean(connection.endpointUrl) });
}

export function createAwsClients(
  config: LlmtwinConfig,
  overrides: AwsClientOverrides = {},
  env: NodeJS.ProcessEnv = process.env,
): AwsClients {
  const connection = awsConnectionOf(config, overrides);
  const common = clientSettings(connection, env);
  return {
    s3: createS3Client(connection, env),
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
