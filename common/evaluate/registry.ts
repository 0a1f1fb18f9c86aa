import { resourceName } from '../shared/naming';
import type { ApprovalStatus } from './contract';
import { GATE_METRICS, type ModelMetrics } from './gate';
import type { EvaluationPlan } from './plan';

/**
 * The model registry's shape, pure: one Model Package Group per twin, and the metadata each version
 * carries (CustomerMetadataProperties) so listings show the key figures without reading S3, and so
 * the version leads back to its evaluation job and to the run that waits for its approval.
 */

export function modelPackageGroupName(prefix: string, twin: string): string {
  return resourceName({ prefix, stage: 'twin', key: twin });
}

/** Metadata keys: `twin.<metric>`, `base.<metric>`, and these. */
export const VERSION_KEYS = {
  evaluationJob: 'llmtwin:evaluation-job',
  trainingJob: 'llmtwin:training-job',
  datasetHash: 'llmtwin:dataset',
  baseModel: 'llmtwin:base-model',
  report: 'llmtwin:report',
  evaluation: 'llmtwin:evaluation',
  workflowId: 'llmtwin:workflow-id',
  gate: 'llmtwin:gate',
} as const;

/** The tag deploy puts on an endpoint: the model package version it serves (the champion's source). */
export const SERVED_MODEL_PACKAGE_TAG = 'llmtwin:model-package';

/** The description starts with the evaluation job's name: ListModelPackages shows descriptions, so a retry finds its version in one list. */
export function versionDescription(evaluationJobName: string, baseModelId: string): string {
  return `${evaluationJobName}: an llmtwin model fine-tuned from ${baseModelId}`.slice(0, 1024);
}

export function isVersionOf(description: string | undefined, evaluationJobName: string): boolean {
  return description?.startsWith(`${evaluationJobName}:`) ?? false;
}

export function metricProperties(twin: ModelMetrics, base: ModelMetrics): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const [label, metrics] of [
    ['twin', twin],
    ['base', base],
  ] as const) {
    for (const name of GATE_METRICS) {
      const value = metrics[name];
      if (typeof value === 'number' && Number.isFinite(value)) properties[`${label}.${name}`] = String(Number(value.toPrecision(6)));
    }
  }
  return properties;
}

export function metricsFromProperties(properties: Record<string, string> | undefined, label: 'twin' | 'base' = 'twin'): ModelMetrics {
  const metrics: ModelMetrics = {};
  for (const name of GATE_METRICS) {
    const text = properties?.[`${label}.${name}`];
    const value = text === undefined ? Number.NaN : Number(text);
    if (Number.isFinite(value)) metrics[name] = value;
  }
  return metrics;
}

/** What registering an evaluated model sends: from the plan, the report read back, the gate's verdict and the run. */
export function registrationFor(
  plan: EvaluationPlan,
  report: { evaluationUri: string; reportUri: string; metrics: { twin: ModelMetrics; base: ModelMetrics } },
  verdict: { decision: 'approved' | 'rejected'; reasons: string[] },
  workflowId: string,
  status: ApprovalStatus,
) {
  return {
    twin: plan.twin,
    evaluationJobName: plan.jobName,
    ...(plan.trainingJobName ? { trainingJobName: plan.trainingJobName } : {}),
    modelUri: plan.modelUri,
    imageUri: plan.imageUri,
    baseModelId: plan.baseModelId,
    datasetHash: plan.datasetHash,
    evaluationUri: report.evaluationUri,
    reportUri: report.reportUri,
    workflowId,
    twinMetrics: report.metrics.twin,
    baseMetrics: report.metrics.base,
    status,
    gate: verdict.decision,
    description: verdict.decision === 'rejected' ? `rejected by the gate: ${verdict.reasons.join('; ')}` : `approved by the gate`,
  };
}
