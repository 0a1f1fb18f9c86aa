import { z } from 'zod';
import { configSection } from '../config/sections';
import { DurationSchema } from '../shared/duration-schema';

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
