import {
  ListEndpointsCommand,
  ListModelPackagesCommand,
  ListProcessingJobsCommand,
  ListTrainingJobsCommand,
} from '@aws-sdk/client-sagemaker';
import { modelPackageGroupName } from '../../common/evaluate/registry';
import { PIPELINE_WORKFLOW_TYPE, type PipelineInput, type PipelineResult, type PipelineWorkflow } from '../../common/pipeline/contract';
import type { SageMakerSender } from '../../activities/aws/clients';
import { PROJECT_ROOT } from '../../platform/paths';
import { queueEndpointAnswer } from './moto-job-outputs';
import { motoUrl } from './stack';
import type { StackWorkers } from './stack-workers';
import { uniqueId } from './temporal';

/**
 * twinPipeline on SageMaker compute against moto, as the fault tests run it: the sample corpus, a twin
 * of its own, no idle monitor, enough smoke-test answers queued for the retries a test provokes.
 */
export async function runPipelineOnMoto(
  stack: StackWorkers,
  idPrefix: string,
  answers: number,
): Promise<{ input: PipelineInput; result: PipelineResult }> {
  for (let i = 0; i < answers; i += 1) await queueEndpointAnswer(motoUrl());
  const input: PipelineInput = {
    source: { kind: 'local', path: `${PROJECT_ROOT}/examples/corpus` },
    twin: uniqueId('wren'),
    deploy: { monitor: { enabled: false } },
  };
  const result = await stack.client.workflow.execute<PipelineWorkflow>(PIPELINE_WORKFLOW_TYPE, {
    taskQueue: stack.queues.control,
    workflowId: uniqueId(idPrefix),
    args: [input],
  });
  return { input, result };
}

/** The jobs, endpoints and registry versions SageMaker holds (moto starts empty for each test). */
export async function sageMakerCounts(stack: StackWorkers, sagemaker: SageMakerSender, twin: string) {
  const group = modelPackageGroupName(stack.config.resourceNamePrefix, twin);
  return {
    trainingJobs: (await sagemaker.send(new ListTrainingJobsCommand({}))).TrainingJobSummaries?.length,
    processingJobs: (await sagemaker.send(new ListProcessingJobsCommand({}))).ProcessingJobSummaries?.length,
    endpoints: (await sagemaker.send(new ListEndpointsCommand({}))).Endpoints?.length,
    versions: (await sagemaker.send(new ListModelPackagesCommand({ ModelPackageGroupName: group }))).ModelPackageSummaryList?.length,
  };
}
