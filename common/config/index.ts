import { z } from 'zod';
import { DurationSchema, NonNegativeDurationSchema } from '../shared/duration-schema';
import { INSTANCE_TYPE_PATTERN } from '../shared/naming';
import { DEFAULT_TASK_QUEUE } from '../shared/task-queues';

/**
 * Everything a worker or the CLI needs, in one schema. Defaults point at the embedded local stack
 * (`npm run dev -- start`): Temporal dev server on 7233 and moto on 5055. Pure: the loader that reads
 * environment variables and the optional JSON file lives in platform/config.ts.
 */

/** Port of the local moto server started by the dev stack. */
export const LOCAL_MOTO_PORT = 5055;
/** Account id moto answers with; used for the default (fake) execution role. */
export const LOCAL_ACCOUNT_ID = '123456789012';

const ResourceNameSchema = z
  .string()
  .regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/, 'use letters, digits and single hyphens (SageMaker name rules)')
  .max(63);

const S3BucketSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)');

const InstanceTypeSchema = z.string().regex(INSTANCE_TYPE_PATTERN, 'must look like "ml.g5.2xlarge"');

export const ConfigSchema = z
  .object({
    temporal: z
      .object({
        address: z.string().min(1).default('127.0.0.1:7233'),
        namespace: z.string().min(1).default('default'),
        /** Base task queue; the data queue is derived from it (see common/task-queues.ts). */
        taskQueue: z
          .string()
          .regex(/^[a-zA-Z0-9._-]+$/, 'use letters, digits, ".", "_" or "-"')
          .default(DEFAULT_TASK_QUEUE),
        /** Temporal Cloud and other TLS deployments: turn TLS on and, optionally, pass an API key. */
        tls: z.boolean().default(false),
        apiKey: z.string().min(1).optional(),
      })
      .prefault({}),
    aws: z
      .object({
        /** `local` talks to moto (endpoint below, dummy credentials); `aws` uses the real endpoints. */
        target: z.enum(['local', 'aws']).default('local'),
        region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as "us-east-1"').default('us-east-1'),
        /** Endpoint override. Defaults to the local moto server when target is `local`. */
        endpointUrl: z.url().optional(),
        /** SDK-level attempts per call (standard retry mode, with backoff) before Temporal's retry policy takes over. */
        maxAttempts: z.number().int().min(1).max(10).default(3),
      })
      .prefault({}),
    s3: z
      .object({
        bucket: S3BucketSchema.default('llmtwin-local'),
        /** Key prefix under which every object of ours lives; ends with "/" or is empty. */
        prefix: z
          .string()
          .regex(/^([A-Za-z0-9._-]+\/)*$/, 'must be empty or path segments ending with "/", like "llmtwin/"')
          .default('llmtwin/'),
      })
      .prefault({}),
    sagemaker: z
      .object({
        executionRoleArn: z
          .string()
          .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN like "arn:aws:iam::123456789012:role/MySageMakerRole"')
          .optional(),
        trainingInstanceType: InstanceTypeSchema.default('ml.g5.2xlarge'),
        /** Tried in order when the preferred type hits a quota or capacity error. */
        trainingInstanceFallbacks: z.array(InstanceTypeSchema).default(['ml.g5.4xlarge', 'ml.g6.2xlarge', 'ml.p3.2xlarge']),
        processingInstanceType: InstanceTypeSchema.default('ml.g5.xlarge'),
        inferenceInstanceType: InstanceTypeSchema.default('ml.g5.xlarge'),
      })
      .prefault({}),
    polling: z
      .object({
        /** First wait between Describe* polls of a long SageMaker operation. */
        initialInterval: DurationSchema.default('15s'),
        /** Polls back off up to this interval. */
        maxInterval: DurationSchema.default('60s'),
      })
      .prefault({}),
    idle: z
      .object({
        checkInterval: DurationSchema.default('5m'),
        window: DurationSchema.default('60m'),
        /** Protects new endpoints; defaults to one idle window when unset. */
        grace: NonNegativeDurationSchema.optional(),
      })
      .prefault({}),
    worker: z
      .object({
        /** Prometheus scrape port for the Temporal runtime's metrics; 0 turns the exporter off. */
        metricsPort: z.number().int().min(0).max(65535).default(9464),
        /** In-flight activities get this long to finish on SIGINT/SIGTERM before they are cancelled. */
        shutdownGraceTime: DurationSchema.default('30s'),
        /** Concurrent activities on the CPU-heavy data queue; one per core is the sane ceiling. */
        dataConcurrency: z.number().int().min(1).max(64).default(1),
        /** Concurrent activities on the control queue (AWS calls and polls are cheap). */
        controlConcurrency: z.number().int().min(1).max(1000).default(100),
        /**
         * Running workflows kept in the control worker's sticky cache. Each costs about 2.3 MB (this
         * bundle's modules, zod schemas included, are evaluated per workflow); an evicted one is replayed
         * from its (continue-as-new-bounded) history at its next task. Temporal's own default sizes the
         * cache from the machine's memory, which lets 1,000 idle monitors take 2.7 GB.
         */
        maxCachedWorkflows: z.number().int().min(1).max(100_000).default(200),
      })
      .prefault({}),
    training: z
      .object({
        /** Base model when a fine-tune input names none: small, ungated, Apache-2.0, with a chat template. */
        baseModelId: z.string().min(1).default('Qwen/Qwen2.5-1.5B-Instruct'),
        /** Secrets Manager secret holding the Hugging Face token (plain string or {"HF_TOKEN": "..."}). */
        hfTokenSecretArn: z
          .string()
          .regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/, 'must be a Secrets Manager secret ARN')
          .optional(),
        /** Otherwise the token is read from this variable of the worker's environment, when set there. */
        hfTokenEnvVar: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name').default('HF_TOKEN'),
        /** Managed spot training (up to ~70% cheaper; may wait for capacity). */
        spot: z.boolean().default(false),
        maxRuntime: DurationSchema.default('12h'),
        spotMaxWait: DurationSchema.default('24h'),
        volumeSizeGb: z.number().int().min(1).max(16_384).default(100),
        /** A row of common/training-images.ts, or an explicit image URI that wins over it. */
        transformersVersion: z.string().regex(/^\d+\.\d+\.\d+$/).default('4.56.2'),
        pytorchVersion: z.string().regex(/^\d+\.\d+\.\d+$/).default('2.8.0'),
        imageUri: z.string().min(1).optional(),
      })
      .prefault({}),
    /** Optional instruction generator for prepare-data: any OpenAI-compatible chat completions endpoint. */
    generator: z
      .object({
        /** API root such as "https://api.openai.com/v1" or a vLLM/TGI server's "http://host:8000/v1". */
        baseUrl: z.url().optional(),
        model: z.string().min(1).optional(),
        /** Sent as a Bearer token; read by the data worker only, never part of workflow input or history. */
        apiKey: z.string().min(1).optional(),
        concurrency: z.number().int().min(1).max(64).default(4),
        maxRetries: z.number().int().min(0).max(10).default(4),
        timeout: DurationSchema.default('60s'),
        temperature: z.number().min(0).max(2).default(0.3),
        /** For the token/cost report in the dataset manifest. */
        inputUsdPerMillionTokens: z.number().min(0).default(0),
        outputUsdPerMillionTokens: z.number().min(0).default(0),
      })
      .prefault({}),
    log: z
      .object({
        level: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
      })
      .prefault({}),
    pricing: z
      .object({
        /** Overrides and additions to the built-in price table (common/pricing.ts), e.g. {"ml.g5.xlarge": 1.2}. */
        usdPerHour: z.record(z.string().regex(INSTANCE_TYPE_PATTERN, 'keys must be instance types like "ml.g5.xlarge"'), z.number().nonnegative()).default({}),
      })
      .prefault({}),
    resourceNamePrefix: ResourceNameSchema.max(20).default('llmtwin'),
  })
  .superRefine((config, ctx) => {
    if (config.aws.target === 'aws' && !config.sagemaker.executionRoleArn) {
      ctx.addIssue({
        code: 'custom',
        path: ['sagemaker', 'executionRoleArn'],
        message: 'is required when aws.target is "aws": set LLMTWIN_SAGEMAKER_ROLE_ARN to a role SageMaker can assume',
      });
    }
  });

export type LlmtwinConfig = z.output<typeof ConfigSchema>;
export type LlmtwinConfigInput = z.input<typeof ConfigSchema>;

/**
 * Environment variables and the config path each one sets. Standard AWS and Temporal names where they
 * exist, `LLMTWIN_*` otherwise. Numbers, booleans and JSON arrays are parsed before validation.
 */
export const ENV_VARS: ReadonlyArray<{ name: string; path: readonly string[]; kind: 'string' | 'number' | 'boolean' | 'list' }> = [
  { name: 'TEMPORAL_ADDRESS', path: ['temporal', 'address'], kind: 'string' },
  { name: 'TEMPORAL_NAMESPACE', path: ['temporal', 'namespace'], kind: 'string' },
  { name: 'TEMPORAL_API_KEY', path: ['temporal', 'apiKey'], kind: 'string' },
  { name: 'TEMPORAL_TLS', path: ['temporal', 'tls'], kind: 'boolean' },
  { name: 'LLMTWIN_TASK_QUEUE', path: ['temporal', 'taskQueue'], kind: 'string' },
  { name: 'LLMTWIN_AWS_TARGET', path: ['aws', 'target'], kind: 'string' },
  { name: 'AWS_DEFAULT_REGION', path: ['aws', 'region'], kind: 'string' },
  { name: 'AWS_REGION', path: ['aws', 'region'], kind: 'string' },
  { name: 'AWS_ENDPOINT_URL', path: ['aws', 'endpointUrl'], kind: 'string' },
  { name: 'AWS_MAX_ATTEMPTS', path: ['aws', 'maxAttempts'], kind: 'number' },
  { name: 'LLMTWIN_S3_BUCKET', path: ['s3', 'bucket'], kind: 'string' },
  { name: 'LLMTWIN_S3_PREFIX', path: ['s3', 'prefix'], kind: 'string' },
  { name: 'LLMTWIN_SAGEMAKER_ROLE_ARN', path: ['sagemaker', 'executionRoleArn'], kind: 'string' },
  { name: 'LLMTWIN_TRAINING_INSTANCE_TYPE', path: ['sagemaker', 'trainingInstanceType'], kind: 'string' },
  { name: 'LLMTWIN_TRAINING_INSTANCE_FALLBACKS', path: ['sagemaker', 'trainingInstanceFallbacks'], kind: 'list' },
  { name: 'LLMTWIN_PROCESSING_INSTANCE_TYPE', path: ['sagemaker', 'processingInstanceType'], kind: 'string' },
  { name: 'LLMTWIN_INFERENCE_INSTANCE_TYPE', path: ['sagemaker', 'inferenceInstanceType'], kind: 'string' },
  { name: 'LLMTWIN_POLL_INITIAL_INTERVAL', path: ['polling', 'initialInterval'], kind: 'string' },
  { name: 'LLMTWIN_POLL_MAX_INTERVAL', path: ['polling', 'maxInterval'], kind: 'string' },
  { name: 'LLMTWIN_IDLE_CHECK_INTERVAL', path: ['idle', 'checkInterval'], kind: 'string' },
  { name: 'LLMTWIN_IDLE_WINDOW', path: ['idle', 'window'], kind: 'string' },
  { name: 'LLMTWIN_IDLE_GRACE', path: ['idle', 'grace'], kind: 'string' },
  { name: 'LLMTWIN_METRICS_PORT', path: ['worker', 'metricsPort'], kind: 'number' },
  { name: 'LLMTWIN_SHUTDOWN_GRACE', path: ['worker', 'shutdownGraceTime'], kind: 'string' },
  { name: 'LLMTWIN_DATA_CONCURRENCY', path: ['worker', 'dataConcurrency'], kind: 'number' },
  { name: 'LLMTWIN_CONTROL_CONCURRENCY', path: ['worker', 'controlConcurrency'], kind: 'number' },
  { name: 'LLMTWIN_MAX_CACHED_WORKFLOWS', path: ['worker', 'maxCachedWorkflows'], kind: 'number' },
  { name: 'LLMTWIN_TRAINING_BASE_MODEL', path: ['training', 'baseModelId'], kind: 'string' },
  { name: 'LLMTWIN_HF_TOKEN_SECRET_ARN', path: ['training', 'hfTokenSecretArn'], kind: 'string' },
  { name: 'LLMTWIN_HF_TOKEN_ENV_VAR', path: ['training', 'hfTokenEnvVar'], kind: 'string' },
  { name: 'LLMTWIN_TRAINING_SPOT', path: ['training', 'spot'], kind: 'boolean' },
  { name: 'LLMTWIN_TRAINING_MAX_RUNTIME', path: ['training', 'maxRuntime'], kind: 'string' },
  { name: 'LLMTWIN_TRAINING_SPOT_MAX_WAIT', path: ['training', 'spotMaxWait'], kind: 'string' },
  { name: 'LLMTWIN_TRAINING_VOLUME_GB', path: ['training', 'volumeSizeGb'], kind: 'number' },
  { name: 'LLMTWIN_TRAINING_TRANSFORMERS_VERSION', path: ['training', 'transformersVersion'], kind: 'string' },
  { name: 'LLMTWIN_TRAINING_PYTORCH_VERSION', path: ['training', 'pytorchVersion'], kind: 'string' },
  { name: 'LLMTWIN_TRAINING_IMAGE_URI', path: ['training', 'imageUri'], kind: 'string' },
  { name: 'LLMTWIN_LOG_LEVEL', path: ['log', 'level'], kind: 'string' },
  { name: 'LLMTWIN_GENERATOR_BASE_URL', path: ['generator', 'baseUrl'], kind: 'string' },
  { name: 'LLMTWIN_GENERATOR_MODEL', path: ['generator', 'model'], kind: 'string' },
  { name: 'LLMTWIN_GENERATOR_API_KEY', path: ['generator', 'apiKey'], kind: 'string' },
  { name: 'LLMTWIN_GENERATOR_CONCURRENCY', path: ['generator', 'concurrency'], kind: 'number' },
  { name: 'LLMTWIN_GENERATOR_MAX_RETRIES', path: ['generator', 'maxRetries'], kind: 'number' },
  { name: 'LLMTWIN_GENERATOR_TIMEOUT', path: ['generator', 'timeout'], kind: 'string' },
  { name: 'LLMTWIN_GENERATOR_TEMPERATURE', path: ['generator', 'temperature'], kind: 'number' },
  { name: 'LLMTWIN_GENERATOR_INPUT_USD_PER_MTOK', path: ['generator', 'inputUsdPerMillionTokens'], kind: 'number' },
  { name: 'LLMTWIN_GENERATOR_OUTPUT_USD_PER_MTOK', path: ['generator', 'outputUsdPerMillionTokens'], kind: 'number' },
  { name: 'LLMTWIN_RESOURCE_PREFIX', path: ['resourceNamePrefix'], kind: 'string' },
];

/** Name of the variable pointing at an optional JSON config file (environment variables win over it). */
export const CONFIG_FILE_ENV_VAR = 'LLMTWIN_CONFIG';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    readonly issues: readonly string[],
  ) {
    super(message);
  }
}

/**
 * Builds the config from a parsed JSON file (or nothing) and an environment. Environment variables
 * override file values. Throws ConfigError listing each bad field, where it came from and the fix.
 */
export function resolveConfig(env: Readonly<Record<string, string | undefined>>, fileValue: unknown = {}): LlmtwinConfig {
  if (fileValue === null || typeof fileValue !== 'object' || Array.isArray(fileValue)) {
    throw new ConfigError('config file must hold a JSON object', ['<file>: expected an object like {"s3": {"bucket": "..."}}']);
  }
  const merged = structuredClone(fileValue) as Record<string, unknown>;
  const origin = new Map<string, string>();
  const conversionIssues: string[] = [];
  for (const variable of ENV_VARS) {
    const raw = env[variable.name];
    if (raw === undefined || raw === '') continue;
    const converted = convertEnvValue(raw, variable.kind);
    if (converted === undefined) {
      conversionIssues.push(`${variable.name}=${JSON.stringify(raw)}: expected a ${variable.kind}`);
      continue;
    }
    setPath(merged, variable.path, converted);
    origin.set(variable.path.join('.'), `env ${variable.name}`);
  }
  if (conversionIssues.length > 0) {
    throw new ConfigError(`invalid configuration:\n  ${conversionIssues.join('\n  ')}`, conversionIssues);
  }
  const result = ConfigSchema.safeParse(merged);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => {
      const field = issue.path.join('.');
      const source = origin.get(field) ?? envNameFor(field) ?? 'config file';
      return `${field} (${source}): ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${issues.join('\n  ')}`, issues);
  }
  return result.data;
}

function envNameFor(field: string): string | undefined {
  const match = ENV_VARS.find((variable) => variable.path.join('.') === field);
  return match ? `set ${match.name} or "${field}" in the config file` : undefined;
}

function convertEnvValue(raw: string, kind: 'string' | 'number' | 'boolean' | 'list'): unknown {
  switch (kind) {
    case 'string':
      return raw;
    case 'number': {
      const value = Number(raw);
      return Number.isFinite(value) ? value : undefined;
    }
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      return undefined;
    case 'list':
      return raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0);
  }
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

/** The AWS endpoint the clients should use, or undefined for the real AWS endpoints. */
export function effectiveAwsEndpoint(config: LlmtwinConfig): string | undefined {
  if (config.aws.endpointUrl) return config.aws.endpointUrl;
  return config.aws.target === 'local' ? `http://127.0.0.1:${LOCAL_MOTO_PORT}` : undefined;
}

/** The SageMaker execution role: the configured one, or a placeholder moto accepts in local mode. */
export function effectiveExecutionRoleArn(config: LlmtwinConfig): string {
  return config.sagemaker.executionRoleArn ?? `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/llmtwin-local-sagemaker`;
}
