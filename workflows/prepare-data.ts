import { log, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { PrepareDataActivities } from '../activities/prepare-data';
import { DATA_WORK } from '../common/shared/activity-options';
import { PREPARE_DATA_STAGE, PrepareDataInputSchema, type PrepareDataInput, type PrepareDataResult } from '../common/prepare-data/contract';
import { SEARCH_ATTRIBUTES } from '../common/shared/search-attributes';
import { taskQueuesFor } from '../common/shared/task-queues';
import { parseWorkflowInput } from './boundary';

/**
 * Raw writing -> a versioned instruct dataset in S3. Runs on its own (CLI, Web UI) or as a child of the
 * pipeline; its input and result are the contract (common/prepare-data/contract.ts). The work runs on the data task
 * queue derived from this workflow's own queue: plan (fingerprint the source, find an existing dataset
 * with the same hash), then build and publish only if there is none.
 */
export async function prepareData(rawInput: PrepareDataInput): Promise<PrepareDataResult> {
  const input = parseWorkflowInput(PrepareDataInputSchema, rawInput, 'prepareData input');
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.stage, value: PREPARE_DATA_STAGE }]);
  const data = proxyActivities<PrepareDataActivities>({ ...DATA_WORK, taskQueue: taskQueuesFor(workflowInfo().taskQueue).data });

  // The activities get the validated input, so they and this workflow agree on every default.
  const plan = await data.planDataset(input);
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.datasetHash, value: plan.datasetHash }]);
  if (plan.existing) {
    log.info('dataset already exists; reusing it', { datasetHash: plan.datasetHash, datasetUri: plan.existing.datasetUri });
    return plan.existing;
  }
  return data.buildDataset({ input, datasetHash: plan.datasetHash });
}
