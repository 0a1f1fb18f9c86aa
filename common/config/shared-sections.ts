import { z } from 'zod';
import { DurationSchema } from '../shared/duration-schema';
import { INSTANCE_TYPE_PATTERN } from '../shared/naming';
import { InstanceTypeSchema, S3BucketSchema } from '../shared/schemas';
import { DEFAULT_TASK_QUEUE } from '../shared/task-queues';
import { configSection } from './sections';

/** The sections every stage shares: where Temporal and AWS are, the bucket, SageMaker's account settings, the workers. */

/** A payload key: its id (stored with every payload it seals) and the environment variable holding its 32 bytes, base64. */
const PAYLOAD_KEY_ID = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'use 1-64 letters, digits, ".", "_", ":" or "-" (a name such as "llmtwin-2026-12")');
const PAYLOAD_KEY_ENV = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'name an environment variable, such as LLMTWIN_PAYLOAD_KEY');

const distinct = (values: readonly string[]) => new Set(values).size === values.length;

export const TEMPORAL_CONFIG = configSection({
  key: 'temporal',
  schema: z
    .strictObject({
      address: z.string().min(1).default('127.0.0.1:7233'),
      namespace: z.string().min(1).default('default'),
      /** Base task queue; the data and idle queues are derived from it (see common/shared/task-queues.ts). */
      taskQueue: z
        .string()
        .regex(/^[a-zA-Z0-9._-]+$/, 'use letters, digits, ".", "_" or "-"')
        .default(DEFAULT_TASK_QUEUE),
      /** Temporal Cloud and other TLS deployments: turn TLS on and, optionally, pass an API key. */
      tls: z.boolean().default(false),
      apiKey: z.string().min(1).optional(),
      /**
       * mTLS, for namespaces that authenticate clients by certificate (Temporal Cloud's other way in, or
       * a self-hosted cluster): the client certificate and its private key, PEM files. Either turns TLS on.
       */
      tlsCert: z.string().min(1).optional(),
      tlsKey: z.string().min(1).optional(),
      /** The CA that signed the server's certificate, a PEM file, when it is not a public one (a self-hosted cluster). */
      tlsCa: z.string().min(1).optional(),
      /** The name on the server's certificate, when it is not the address's host. */
      tlsServerName: z.string().min(1).optional(),
      /** Encrypt every payload (AES-256-GCM; platform/payload-codec.ts). The keys live in environment variables, never here. */
      encryption: z
        .strictObject({
          keyId: PAYLOAD_KEY_ID,
          keyEnv: PAYLOAD_KEY_ENV.default('LLMTWIN_PAYLOAD_KEY'),
          /** Keys rotated out: payloads they sealed stay readable; new payloads are sealed with keyId. */
          previousKeys: z.array(z.strictObject({ keyId: PAYLOAD_KEY_ID, keyEnv: PAYLOAD_KEY_ENV })).default([]),
        })
        .refine((encryption) => distinct([encryption.keyId, ...encryption.previousKeys.map((key) => key.keyId)]), {
          message: 'each key needs its own keyId',
          path: ['previousKeys'],
        })
        .refine((encryption) => distinct([encryption.keyEnv, ...encryption.previousKeys.map((key) => key.keyEnv)]), {
          message: 'each key needs its own keyEnv variable',
          path: ['previousKeys'],
        })
        .optional(),
    })
    .superRefine((temporal, ctx) => {
      if ((temporal.tlsCert === undefined) === (temporal.tlsKey === undefined)) return;
      ctx.addIssue({
        code: 'custom',
        path: [temporal.tlsCert === undefined ? 'tlsCert' : 'tlsKey'],
        message:
          'mTLS needs both the client certificate and its key: set temporal.tlsCert and temporal.tlsKey (TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY)',
      });
    })
    .prefault({}),
  envVars: [
    { name: 'TEMPORAL_ADDRESS', path: 'temporal.address', kind: 'string' },
    { name: 'TEMPORAL_NAMESPACE', path: 'temporal.namespace', kind: 'string' },
    { name: 'TEMPORAL_API_KEY', path: 'temporal.apiKey', kind: 'string' },
    { name: 'TEMPORAL_TLS', path: 'temporal.tls', kind: 'boolean' },
    // The temporal CLI's names for the same files.
    { name: 'TEMPORAL_TLS_CERT', path: 'temporal.tlsCert', kind: 'string' },
    { name: 'TEMPORAL_TLS_KEY', path: 'temporal.tlsKey', kind: 'string' },
    { name: 'TEMPORAL_TLS_CA', path: 'temporal.tlsCa', kind: 'string' },
    { name: 'TEMPORAL_TLS_SERVER_NAME', path: 'temporal.tlsServerName', kind: 'string' },
    { name: 'LLMTWIN_TASK_QUEUE', path: 'temporal.taskQueue', kind: 'string' },
    { name: 'LLMTWIN_PAYLOAD_KEY_ID', path: 'temporal.encryption.keyId', kind: 'string' },
  ],
});

export const AWS_CONFIG = configSection({
  key: 'aws',
  schema: z
    .strictObject({
      /** `local` talks to moto (endpoint below, dummy credentials); `aws` uses the real endpoints. */
      target: z.enum(['local', 'aws']).default('local'),
      region: z
        .string()
        .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as "us-east-1"')
        .default('us-east-1'),
      /** Endpoint override. Defaults to the local moto server when target is `local`. */
      endpointUrl: z.url().optional(),
      /** SDK-level attempts per call (standard retry mode, with backoff) before Temporal's retry policy takes over. */
      maxAttempts: z.number().int().min(1).max(10).default(3),
    })
    .prefault({}),
  envVars: [
    { name: 'LLMTWIN_AWS_TARGET', path: 'aws.target', kind: 'string' },
    { name: 'AWS_DEFAULT_REGION', path: 'aws.region', kind: 'string' },
    { name: 'AWS_REGION', path: 'aws.region', kind: 'string' },
    { name: 'AWS_ENDPOINT_URL', path: 'aws.endpointUrl', kind: 'string' },
    { name: 'AWS_MAX_ATTEMPTS', path: 'aws.maxAttempts', kind: 'number' },
  ],
});

export const S3_CONFIG = configSection({
  key: 's3',
  schema: z
    .strictObject({
      bucket: S3BucketSchema.default('llmtwin-local'),
      /** Key prefix under which every object of ours lives; ends with "/" or is empty. */
      prefix: z
        .string()
        .regex(/^([A-Za-z0-9._-]+\/)*$/, 'must be empty or path segments ending with "/", like "llmtwin/"')
        .default('llmtwin/'),
    })
    .prefault({}),
  envVars: [
    { name: 'LLMTWIN_S3_BUCKET', path: 's3.bucket', kind: 'string' },
    { name: 'LLMTWIN_S3_PREFIX', path: 's3.prefix', kind: 'string' },
  ],
});

export const SAGEMAKER_CONFIG = configSection({
  key: 'sagemaker',
  schema: z
    .strictObject({
      executionRoleArn: z
        .string()
        .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN like "arn:aws:iam::123456789012:role/MySageMakerRole"')
        .optional(),
      trainingInstanceType: InstanceTypeSchema.default('ml.g5.2xlarge'),
      /** Tried in order when the preferred type hits a quota or capacity error. */
      trainingInstanceFallbacks: z.array(InstanceTypeSchema).default(['ml.g5.4xlarge', 'ml.g6.2xlarge', 'ml.p3.2xlarge']),
      processingInstanceType: InstanceTypeSchema.default('ml.g5.xlarge'),
      inferenceInstanceType: InstanceTypeSchema.default('ml.g5.xlarge'),
      /** Instance types AWS added after llmtwin's list (common/shared/instance-types.ts), accepted as known. */
      extraInstanceTypes: z.array(InstanceTypeSchema).default([]),
    })
    .prefault({}),
  envVars: [
    { name: 'LLMTWIN_SAGEMAKER_ROLE_ARN', path: 'sagemaker.executionRoleArn', kind: 'string' },
    { name: 'LLMTWIN_TRAINING_INSTANCE_TYPE', path: 'sagemaker.trainingInstanceType', kind: 'string' },
    { name: 'LLMTWIN_TRAINING_INSTANCE_FALLBACKS', path: 'sagemaker.trainingInstanceFallbacks', kind: 'list' },
    { name: 'LLMTWIN_PROCESSING_INSTANCE_TYPE', path: 'sagemaker.processingInstanceType', kind: 'string' },
    { name: 'LLMTWIN_INFERENCE_INSTANCE_TYPE', path: 'sagemaker.inferenceInstanceType', kind: 'string' },
    { name: 'LLMTWIN_EXTRA_INSTANCE_TYPES', path: 'sagemaker.extraInstanceTypes', kind: 'list' },
  ],
});

export const POLLING_CONFIG = configSection({
  key: 'polling',
  schema: z
    .strictObject({
      /** First wait between Describe* polls of a long SageMaker operation. */
      initialInterval: DurationSchema.default('15s'),
      /** Polls back off up to this interval. */
      maxInterval: DurationSchema.default('60s'),
    })
    .prefault({}),
  envVars: [
    { name: 'LLMTWIN_POLL_INITIAL_INTERVAL', path: 'polling.initialInterval', kind: 'string' },
    { name: 'LLMTWIN_POLL_MAX_INTERVAL', path: 'polling.maxInterval', kind: 'string' },
  ],
});

export const WORKER_CONFIG = configSection({
  key: 'worker',
  schema: z
    .strictObject({
      /** Prometheus scrape port for the Temporal runtime's metrics; 0 turns the exporter off. */
      metricsPort: z.number().int().min(0).max(65535).default(9464),
      /** In-flight activities get this long to finish on SIGINT/SIGTERM before they are cancelled. */
      shutdownGraceTime: DurationSchema.default('30s'),
      /** Concurrent activities on the CPU-heavy data queue; one per core is the sane ceiling. */
      dataConcurrency: z.number().int().min(1).max(64).default(1),
      /** Concurrent activities on the control and idle queues (AWS calls and polls are cheap). */
      controlConcurrency: z.number().int().min(1).max(1000).default(100),
      /**
       * Running workflows kept in a workflow worker's sticky cache. Each costs about 2.3 MB on the control
       * worker (its bundle's modules, zod schemas included, are evaluated per workflow) and about 0.1 MB on
       * the idle worker; an evicted one is replayed from its (continue-as-new-bounded) history at its next
       * task. Temporal's own default sizes the cache from the machine's memory, which lets 1,000 idle
       * monitors take 2.7 GB.
       */
      maxCachedWorkflows: z.number().int().min(1).max(100_000).default(200),
      /**
       * Where each worker process journals the activity attempts it runs, so that a worker starting on
       * this machine after one was killed reports its attempts at once instead of after their heartbeat
       * timeouts (workers/attempt-journal.ts). Relative paths start at the project root; in a container,
       * a volume that outlives the worker process.
       */
      attemptsDir: z.string().min(1).default('.llmtwin/worker-attempts'),
    })
    .prefault({}),
  envVars: [
    { name: 'LLMTWIN_METRICS_PORT', path: 'worker.metricsPort', kind: 'number' },
    { name: 'LLMTWIN_SHUTDOWN_GRACE', path: 'worker.shutdownGraceTime', kind: 'string' },
    { name: 'LLMTWIN_DATA_CONCURRENCY', path: 'worker.dataConcurrency', kind: 'number' },
    { name: 'LLMTWIN_CONTROL_CONCURRENCY', path: 'worker.controlConcurrency', kind: 'number' },
    { name: 'LLMTWIN_MAX_CACHED_WORKFLOWS', path: 'worker.maxCachedWorkflows', kind: 'number' },
    { name: 'LLMTWIN_WORKER_ATTEMPTS_DIR', path: 'worker.attemptsDir', kind: 'string' },
  ],
});

export const LOG_CONFIG = configSection({
  key: 'log',
  schema: z.strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info') }).prefault({}),
  envVars: [{ name: 'LLMTWIN_LOG_LEVEL', path: 'log.level', kind: 'string' }],
});

export const PRICING_CONFIG = configSection({
  key: 'pricing',
  schema: z
    .strictObject({
      /** Overrides and additions to the built-in price table (common/shared/pricing.ts), e.g. {"ml.g5.xlarge": 1.2}. */
      usdPerHour: z
        .record(z.string().regex(INSTANCE_TYPE_PATTERN, 'keys must be instance types like "ml.g5.xlarge"'), z.number().nonnegative())
        .default({}),
    })
    .prefault({}),
  envVars: [],
});

/**
 * Where SageMaker-style jobs (training today; processing and serving with their stages) run: on
 * SageMaker, or as local processes on the worker's machine under SageMaker's container contract
 * (activities/local). Unset, the backend follows aws.target: `local` on the embedded stack, `sagemaker`
 * against AWS; local compute with real S3 (aws.target `aws`, backend `local`) is a valid setup too.
 */
export const COMPUTE_CONFIG = configSection({
  key: 'compute',
  schema: z
    .strictObject({
      backend: z.enum(['sagemaker', 'local']).optional(),
      local: z
        .strictObject({
          /** One folder per job (its /opt/ml tree, log and state); relative paths start at the project root. */
          jobsDir: z.string().min(1).default('.llmtwin/jobs'),
          /** The Python that runs the jobs: the jobs venv, which setup installs (no download at run time). */
          python: z.string().min(1).default('.venv-jobs/bin/python'),
          /** Caches the jobs share, such as the toy base model; relative to the project root. */
          cacheDir: z.string().min(1).default('.llmtwin/cache'),
          /** SIGTERM, then this long before SIGKILL: the 120 s SageMaker gives a stopped job. */
          stopGrace: DurationSchema.default('120s'),
          /**
           * The base model when a fine-tune names none. `auto`: training.baseModelId on a machine with an
           * NVIDIA GPU, else `llmtwin-toy` (a tiny model built offline, see jobs/train). Or a hub id or a path.
           */
          baseModelId: z.string().min(1).default('auto'),
        })
        .prefault({}),
    })
    .prefault({}),
  envVars: [
    { name: 'LLMTWIN_COMPUTE_BACKEND', path: 'compute.backend', kind: 'string' },
    { name: 'LLMTWIN_LOCAL_JOBS_DIR', path: 'compute.local.jobsDir', kind: 'string' },
    { name: 'LLMTWIN_LOCAL_PYTHON', path: 'compute.local.python', kind: 'string' },
    { name: 'LLMTWIN_LOCAL_CACHE_DIR', path: 'compute.local.cacheDir', kind: 'string' },
    { name: 'LLMTWIN_LOCAL_STOP_GRACE', path: 'compute.local.stopGrace', kind: 'string' },
    { name: 'LLMTWIN_LOCAL_BASE_MODEL', path: 'compute.local.baseModelId', kind: 'string' },
  ],
});
