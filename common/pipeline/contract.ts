import { defineQuery } from '@temporalio/workflow';
import { z } from 'zod';
import { DeployInputSchema, type DeployResult } from '../deploy/contract';
import { EvaluateInputSchema, TwinNameSchema, type EvaluateResult } from '../evaluate/contract';
import { FineTuneInputSchema, type FineTuneResult } from '../fine-tune/contract';
import { DataSourceSchema, PrepareDataInputSchema, type PrepareDataResult } from '../prepare-data/contract';
import { issuesOf } from '../shared/validation';

/**
 * The twinPipeline contract. Only the data source and a twin name are required; each stage's section
 * takes what that stage's own input takes (minus what the pipeline passes between stages), and is
 * checked at start by that stage's own schema, so a misspelt key three levels down is refused before
 * anything runs, named with its path in the pipeline input. Pure and workflow-safe.
 */

type Section = z.ZodType;
/** Each section: the stage's schema, the fields the pipeline fills itself, and placeholders for them while checking. */
const SECTIONS: ReadonlyArray<{
  key: 'prepareData' | 'fineTune' | 'evaluate' | 'deploy';
  schema: Section;
  filled: Record<string, unknown>;
}> = [
  { key: 'prepareData', schema: PrepareDataInputSchema, filled: { source: { kind: 'local', path: 'x' } } },
  { key: 'fineTune', schema: FineTuneInputSchema, filled: { datasetUri: 's3://placeholder/datasets/x/', runId: 'x' } },
  { key: 'evaluate', schema: EvaluateInputSchema, filled: { twin: 'x', trainingJobName: 'x', runId: 'x' } },
  {
    key: 'deploy',
    schema: DeployInputSchema,
    filled: { twin: 'x', modelVersionArn: 'arn:aws:sagemaker:us-east-1:123456789012:model-package/x/1', runId: 'x' },
  },
];

const SectionSchema = z.record(z.string(), z.unknown()).optional();

export const PipelineInputSchema = z
  .strictObject({
    /** The author's writing: a folder the data worker can read, or an S3 prefix. */
    source: DataSourceSchema,
    /** The twin's name: its registry group, its endpoint and its runs. */
    twin: TwinNameSchema,
    /** prepareData's input beyond `source` (author, formats, clean, dedup, chunk, instruct, split). */
    prepareData: SectionSchema,
    /** fineTune's input beyond `datasetUri` (baseModelId, hyperparameters, instanceType, spot, ...). */
    fineTune: SectionSchema,
    /** evaluate's input beyond `twin` and the model (gate, approval, decoding, maxSamples, judge, ...). */
    evaluate: SectionSchema,
    /** deploy's input beyond `twin` and the model; `enabled: false` stops the pipeline at the registry. */
    deploy: SectionSchema,
    /** Tags and names carry it; default the pipeline's workflow id. */
    runId: z.string().min(1).max(256).optional(),
  })
  .superRefine((input, ctx) => {
    for (const section of SECTIONS) {
      const raw = input[section.key];
      if (raw === undefined) continue;
      // deploy alone also takes `enabled` (default true), which is the pipeline's, not deploy's.
      const { enabled, ...given } = raw;
      if (section.key !== 'deploy' && enabled !== undefined) Object.assign(given, { enabled });
      if (section.key === 'deploy' && enabled !== undefined && typeof enabled !== 'boolean') {
        ctx.addIssue({ code: 'custom', path: ['deploy', 'enabled'], message: 'must be true or false' });
        continue;
      }
      if (section.key === 'deploy' && enabled === false) continue;
      for (const key of Object.keys(section.filled)) {
        if (key in given)
          ctx.addIssue({ code: 'custom', path: [section.key, key], message: `set by the pipeline itself; remove it from ${section.key}` });
      }
      const parsed = section.schema.safeParse({ ...given, ...section.filled });
      if (parsed.success) continue;
      for (const issue of issuesOf(parsed.error, section.schema)) {
        const path = issue.field === '(input)' ? [] : issue.field.split('.');
        ctx.addIssue({ code: 'custom', path: [section.key, ...path], message: issue.message });
      }
    }
  });

export type PipelineInput = z.input<typeof PipelineInputSchema>;
export type PipelineSettings = z.output<typeof PipelineInputSchema>;

export const PIPELINE_STAGES = ['prepare-data', 'fine-tune', 'evaluate', 'deploy'] as const;
export type PipelineStage = (typeof PIPELINE_STAGES)[number];

export interface StageProgress {
  stage: PipelineStage;
  status: 'pending' | 'running' | 'done' | 'reused' | 'rejected' | 'skipped' | 'failed' | 'cancelled';
  /** The stage's own run (a child workflow): inspect it on its own in the Web UI. */
  workflowId: string;
  startedAt?: string;
  endedAt?: string;
  /** One line a person reads: the dataset, the job, the verdict, the endpoint. */
  summary?: string;
  /** Where to look in AWS: the training or processing job, the endpoint (console links on SageMaker). */
  links?: Record<string, string>;
  error?: string;
}

export interface PipelineProgress {
  twin: string;
  current: PipelineStage | 'done' | null;
  stages: StageProgress[];
  datasetHash?: string;
  metrics?: EvaluateResult['metrics'];
  endpointName?: string;
  /** What the stages cost so far, where known (the training job's estimate). */
  costUsd: number | null;
}

export interface PipelineResult {
  twin: string;
  /** served: a new or unchanged endpoint serves the approved model; registered: approved, not deployed (deploy.enabled false); rejected: by the gate or a person. */
  outcome: 'served' | 'registered' | 'rejected';
  reasons: string[];
  dataset: Pick<PrepareDataResult, 'datasetHash' | 'datasetUri' | 'reused' | 'counts'>;
  model: Pick<FineTuneResult, 'jobName' | 'artifactsUri' | 'reused' | 'estimatedCostUsd' | 'finalMetrics' | 'compute'>;
  evaluation: Pick<EvaluateResult, 'decision' | 'reasons' | 'metrics' | 'modelVersion' | 'reused' | 'reportUri'>;
  deployment: Pick<
    DeployResult,
    'endpointName' | 'endpointArn' | 'configName' | 'invokeUrl' | 'action' | 'previousConfigName' | 'monitor' | 'smokeTest'
  > | null;
  stages: StageProgress[];
}

export const PIPELINE_WORKFLOW_TYPE = 'twinPipeline';
export const PIPELINE_STAGE = 'pipeline';
export const progressQuery = defineQuery<PipelineProgress>('progress');
export type PipelineWorkflow = (input: PipelineInput) => Promise<PipelineResult>;

/** A stage's run id, derived from the pipeline's so each is found from it (and a retried start finds the same). */
export function stageWorkflowId(pipelineWorkflowId: string, stage: PipelineStage): string {
  return `${pipelineWorkflowId}-${stage}`;
}
