import { canonicalJson } from '../shared/canonical-json';
import type { GatePolicy } from './gate';
import { resourceName, stableHash } from '../shared/naming';

/**
 * What one evaluation runs on, resolved once by the stage's planning activity (recorded in history,
 * holding no secret), and the processing job's deterministic name. Pure and workflow-safe.
 */
export interface EvaluationPlan {
  twin: string;
  /** The fine-tune job the model came from, when the input named one. */
  trainingJobName?: string;
  baseModelId: string;
  /** Where the job runs (compute.backend). */
  compute: 'sagemaker' | 'local';
  /** The judge's key is read from this worker variable when the job is created (never recorded). */
  judgeKeyWorkerEnv?: string;
  /** The training job's model.tar.gz. */
  modelUri: string;
  /** The dataset's held-out split. */
  testUri: string;
  /** evaluation.json for the job (base model, decoding, fields, judge), staged content-addressed. */
  configUri: string;
  configSha256: string;
  /** jobs/evaluate with llmtwin_train, packed (sourcedir.tar.gz) and its hash. */
  codeUri: string;
  codeSha256: string;
  /** The training job's loss curve, staged for the report (optional). */
  trainingMetricsUri?: string;
  /** The processing job: deterministic in everything above. */
  jobName: string;
  /** Where the reports go: `<prefix>evaluations/<job name>/`. */
  outputUri: string;
  imageUri: string;
  instanceType: string;
  volumeSizeGb: number;
  maxRuntimeSeconds: number;
  roleArn: string;
  datasetHash: string;
  runId: string;
  resourceNamePrefix: string;
  /** Evaluate again even when a job with these inputs ran: the run id joins the name (job names are never reusable). */
  force: boolean;
  tags: Record<string, string>;
  /** The gate with the worker's defaults filled in (primary metric, tolerance), and how long a manual approval waits. */
  gate: GatePolicy;
  approvalTimeout: string;
  kms?: { volumeKeyId?: string; outputKeyId?: string };
}

/** The same model, data, config, code and instance give the same name: a retry adopts, a rerun reuses. */
export function evaluationJobName(plan: Omit<EvaluationPlan, 'outputUri' | 'jobName'>): string {
  const inputs = canonicalJson({
    modelUri: plan.modelUri,
    testUri: plan.testUri,
    config: plan.configSha256,
    code: plan.codeSha256,
    imageUri: plan.imageUri,
    instance: { type: plan.instanceType, volumeSizeGb: plan.volumeSizeGb },
  });
  return resourceName({
    prefix: plan.resourceNamePrefix,
    stage: 'eval',
    key: `${plan.datasetHash.slice(0, 12)}|${stableHash(inputs)}${plan.force ? `|${plan.runId}` : ''}`,
  });
}
