import { z } from 'zod';
import { configSection } from '../config/sections';
import { DurationSchema } from '../shared/duration-schema';
import { s3UriSchema } from '../shared/schemas';

/**
 * Prepare-data's worker-side settings: the optional instruction generator, any OpenAI-compatible chat
 * completions endpoint. Kept on the data worker, never in workflow input, so its key stays out of history.
 */
export const PREPARE_DATA_CONFIG = configSection({
  key: 'generator',
  schema: z
    .strictObject({
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
  envVars: [
    { name: 'LLMTWIN_GENERATOR_BASE_URL', path: 'generator.baseUrl', kind: 'string' },
    { name: 'LLMTWIN_GENERATOR_MODEL', path: 'generator.model', kind: 'string' },
    { name: 'LLMTWIN_GENERATOR_API_KEY', path: 'generator.apiKey', kind: 'string' },
    { name: 'LLMTWIN_GENERATOR_CONCURRENCY', path: 'generator.concurrency', kind: 'number' },
    { name: 'LLMTWIN_GENERATOR_MAX_RETRIES', path: 'generator.maxRetries', kind: 'number' },
    { name: 'LLMTWIN_GENERATOR_TIMEOUT', path: 'generator.timeout', kind: 'string' },
    { name: 'LLMTWIN_GENERATOR_TEMPERATURE', path: 'generator.temperature', kind: 'number' },
    { name: 'LLMTWIN_GENERATOR_INPUT_USD_PER_MTOK', path: 'generator.inputUsdPerMillionTokens', kind: 'number' },
    { name: 'LLMTWIN_GENERATOR_OUTPUT_USD_PER_MTOK', path: 'generator.outputUsdPerMillionTokens', kind: 'number' },
  ],
});

/**
 * Where the data worker may read an author's writing from (activities/prepare-data/source.ts): local
 * folders under these roots, symbolic links resolved (default: the worker's working directory), and S3
 * prefixes outside the deployment's own bucket, which is always allowed.
 */
export const SOURCES_CONFIG = configSection({
  key: 'sources',
  schema: z
    .strictObject({
      localRoots: z.array(z.string().min(1)).default([]),
      s3Allowed: z.array(s3UriSchema('s3://other-bucket/writing/')).default([]),
    })
    .prefault({}),
  envVars: [
    { name: 'LLMTWIN_SOURCE_ROOTS', path: 'sources.localRoots', kind: 'list' },
    { name: 'LLMTWIN_SOURCE_S3_ALLOW', path: 'sources.s3Allowed', kind: 'list' },
  ],
});

/**
 * How the data worker runs the build (activities/prepare-data/helper-threads.ts): threads per build,
 * this one included. 1 (the default) runs it on one thread, in the least memory; 2 or more share the
 * parsing, cleaning, staging, chunking, instructions and JSONL with helper threads (measured on this
 * project's 2 cores: 1.1-1.2x faster for 60-80 MiB more, bench/prepare-data.ts; README, Speed and
 * memory); 0 takes one per core, at most 4. The dataset is the same, byte for byte, whatever the number.
 */
export const PREPARE_THREADS_CONFIG = configSection({
  key: 'prepareData',
  schema: z
    .strictObject({
      threads: z.number().int().min(0).max(64).default(1),
      /**
       * How often a build records how far its first pass got (activities/prepare-data/checkpoint.ts), so
       * that a retry on the same data worker (after a crash or a SIGKILL) goes on from there. Each
       * checkpoint waits for the helpers' batches in flight, which is why it is not after every file.
       */
      checkpointEvery: DurationSchema.default('10s'),
    })
    .prefault({}),
  envVars: [
    { name: 'LLMTWIN_PREPARE_THREADS', path: 'prepareData.threads', kind: 'number' },
    { name: 'LLMTWIN_PREPARE_CHECKPOINT_EVERY', path: 'prepareData.checkpointEvery', kind: 'string' },
  ],
});

/** The threads a build uses for `prepareData.threads` on this machine. */
export function prepareThreads(configured: number, cores: number): number {
  return configured > 0 ? configured : Math.max(1, Math.min(4, cores));
}
