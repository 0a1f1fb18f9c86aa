import {
  ChildWorkflowFailure,
  executeChild,
  log,
  patched,
  proxyActivities,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { PrepareDataActivities } from '../activities/prepare-data';
import type { DatasetWaitActivities } from '../activities/prepare-data/await-dataset';
import { DATA_WORK, LONG_WAIT } from '../common/shared/activity-options';
import {
  BuildDatasetRequestSchema,
  DATASET_BUILD_WORKFLOW_TYPE,
  datasetBuildWorkflowId,
  PREPARE_DATA_STAGE,
  PrepareDataInputSchema,
  type BuildDatasetRequest,
  type DatasetBuildWorkflow,
  type PrepareDataInput,
  type PrepareDataResult,
} from '../common/prepare-data/contract';
import { SEARCH_ATTRIBUTES } from '../common/shared/search-attributes';
import { taskQueuesFor } from '../common/shared/task-queues';
import { parseWorkflowInput } from './boundary';

/**
 * Runs started before it built their dataset in their own activity, so runs of one source started
 * together each built it (the first to finish published it). Since, the build runs once, in a child
 * with one workflow id per dataset (datasetBuild), and the others wait for what it publishes.
 */
export const BUILD_ONCE_PATCH = 'prepare-data-build-once';

/**
 * A waiting run looks for the manifest every few seconds, and asks Temporal again whether the build
 * still runs (by trying to start it) after 10 s, then twice as long each time, at most every 5 minutes:
 * a six-hour build costs a waiting run about 80 tries, under a thousand history events.
 */
const FIRST_LOOK_AFTER_MS = 10_000;
const LOOK_AT_MOST_EVERY_MS = 5 * 60_000;

const dataWork = () => proxyActivities<PrepareDataActivities>({ ...DATA_WORK, taskQueue: taskQueuesFor(workflowInfo().taskQueue).data });

/**
 * Raw writing -> a versioned instruct dataset in S3. Runs on its own (CLI, Web UI) or as a child of the
 * pipeline; its input and result are the contract (common/prepare-data/contract.ts). The work runs on the data task
 * queue derived from this workflow's own queue: plan (fingerprint the source, find an existing dataset
 * with the same hash), then build and publish only if there is none.
 */
export async function prepareData(rawInput: PrepareDataInput): Promise<PrepareDataResult> {
  const input = parseWorkflowInput(PrepareDataInputSchema, rawInput, 'prepareData input');
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.stage, value: PREPARE_DATA_STAGE }]);
  const data = dataWork();

  // The activities get the validated input, so they and this workflow agree on every default.
  const plan = await data.planDataset(input);
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.datasetHash, value: plan.datasetHash }]);
  if (plan.existing) {
    log.info('dataset already exists; reusing it', { datasetHash: plan.datasetHash, datasetUri: plan.existing.datasetUri });
    return plan.existing;
  }
  const request: BuildDatasetRequest = { input, datasetHash: plan.datasetHash };
  return patched(BUILD_ONCE_PATCH) ? buildOnce(request) : data.buildDataset(request);
}

/**
 * The build of one dataset, as a child of the prepareData run that asked for it first, under the
 * dataset's own workflow id (datasetBuildWorkflowId): Temporal refuses a second execution of that id
 * while this one runs, which is what makes concurrent runs of one source build it once.
 */
export async function datasetBuild(rawRequest: BuildDatasetRequest): Promise<PrepareDataResult> {
  // Started by prepareData with a validated request, but a person can start one from the Web UI too.
  const request = parseWorkflowInput(BuildDatasetRequestSchema, rawRequest, 'datasetBuild input');
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.datasetHash, value: request.datasetHash }]);
  return dataWork().buildDataset(request);
}

/**
 * Builds the dataset in the child only one run at a time may start; a run that finds it started by
 * another waits for its manifest. When that build ends without one (its run was cancelled, or it
 * failed), the next look starts the build here instead.
 */
async function buildOnce(request: BuildDatasetRequest): Promise<PrepareDataResult> {
  // On this workflow's own (control) queue: waiting is S3 reads and must not hold a data worker's slot.
  const { awaitDataset } = proxyActivities<DatasetWaitActivities>(LONG_WAIT);
  const building = datasetBuildWorkflowId(workflowInfo().taskQueue, request.datasetHash);
  for (let forAtMostMs = FIRST_LOOK_AFTER_MS; ; forAtMostMs = Math.min(forAtMostMs * 2, LOOK_AT_MOST_EVERY_MS)) {
    try {
      return await executeChild<DatasetBuildWorkflow>(DATASET_BUILD_WORKFLOW_TYPE, { workflowId: building, args: [request] });
    } catch (error) {
      // The build's own failure, as this run would have failed had it built the dataset itself.
      if (error instanceof ChildWorkflowFailure && error.cause) throw error.cause;
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
    log.info('another run is building this dataset; waiting for it', { datasetHash: request.datasetHash, building });
    const { dataset } = await awaitDataset({ datasetHash: request.datasetHash, building, forAtMostMs });
    if (dataset) return dataset;
  }
}
