import { z } from 'zod';
import { GATE_METRICS, type ModelMetrics } from './gate';
import type { EvaluationMetrics } from './contract';

/**
 * evaluation.json as jobs/evaluate writes it (llmtwin_evaluate/run.py), read back by the stage: a file
 * read is a boundary, so it is parsed strictly and a job of another version fails with the field named.
 */

const MetricValue = z.number().nullable();
const ModelMetricsSchema = z.strictObject(
  Object.fromEntries(GATE_METRICS.map((name) => [name, MetricValue.optional()])),
) as z.ZodType<ModelMetrics>;

export const EvaluationReportSchema = z.strictObject({
  schema_version: z.literal(1),
  model: z.strictObject({ artifacts: z.string(), base_model_id: z.string() }),
  decoding: z.strictObject({
    max_new_tokens: z.number(),
    temperature: z.number(),
    top_p: z.number(),
    seed: z.number(),
    batch_size: z.number(),
  }),
  samples_scored: z.number().int().min(0),
  metrics: z.strictObject({ twin: ModelMetricsSchema, base: ModelMetricsSchema }),
  difference: ModelMetricsSchema,
  judge: z.strictObject({ scored: z.number(), unparsable: z.number(), failed_calls: z.number() }).nullable(),
  training_loss: z.array(z.tuple([z.number(), z.number()])),
  samples: z.array(z.record(z.string(), z.unknown())),
});
export type EvaluationReport = z.output<typeof EvaluationReportSchema>;

/** What the workflow keeps of a report (never the samples: history stays small). */
export interface EvaluationSummary {
  metrics: EvaluationMetrics;
  samplesScored: number;
  judge: EvaluationReport['judge'];
}

export function summarize(report: EvaluationReport): EvaluationSummary {
  return {
    metrics: { twin: report.metrics.twin, base: report.metrics.base, difference: report.difference },
    samplesScored: report.samples_scored,
    judge: report.judge,
  };
}
