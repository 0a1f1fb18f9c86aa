import { DEPLOY_WORKFLOW_TYPE, ROLLBACK_WORKFLOW_TYPE, type DeployWorkflow, type RollbackWorkflow } from '../../../common/deploy/contract';
import { EVALUATE_WORKFLOW_TYPE, type EvaluateWorkflow } from '../../../common/evaluate/contract';
import { PIPELINE_WORKFLOW_TYPE, type PipelineWorkflow } from '../../../common/pipeline/contract';
import { FINE_TUNE_WORKFLOW_TYPE, type FineTuneWorkflow } from '../../../common/fine-tune/contract';
import { IDLE_MONITOR_WORKFLOW_TYPE, type IdleMonitorWorkflow } from '../../../common/idle/contract';
import { IDLE_SWEEP_WORKFLOW_TYPE, type IdleSweepWorkflow } from '../../../common/idle/sweep';
import {
  DATASET_BUILD_WORKFLOW_TYPE,
  PREPARE_DATA_WORKFLOW_TYPE,
  type DatasetBuildWorkflow,
  type PrepareDataWorkflow,
} from '../../../common/prepare-data/contract';
import { STACK_CHECK_WORKFLOW_TYPE, type StackCheckWorkflow } from '../../../common/stack-check/contract';
import * as workflows from '../../../workflows';
import * as idleWorkflows from '../../../workflows/idle';

// Clients start workflows by the type names in common/<stage>/: a name that drifts from the exported
// function would start a workflow no worker knows ("workflow type not found").
describe('workflow type names in the contracts', () => {
  // Compile-time: each registered workflow has the signature its contract declares.
  const signatures: { [type: string]: unknown } = {
    [STACK_CHECK_WORKFLOW_TYPE]: workflows.stackCheck satisfies StackCheckWorkflow,
    [PREPARE_DATA_WORKFLOW_TYPE]: workflows.prepareData satisfies PrepareDataWorkflow,
    [DATASET_BUILD_WORKFLOW_TYPE]: workflows.datasetBuild satisfies DatasetBuildWorkflow,
    [FINE_TUNE_WORKFLOW_TYPE]: workflows.fineTune satisfies FineTuneWorkflow,
    [EVALUATE_WORKFLOW_TYPE]: workflows.evaluate satisfies EvaluateWorkflow,
    [DEPLOY_WORKFLOW_TYPE]: workflows.deploy satisfies DeployWorkflow,
    [ROLLBACK_WORKFLOW_TYPE]: workflows.rollbackEndpoint satisfies RollbackWorkflow,
    [PIPELINE_WORKFLOW_TYPE]: workflows.twinPipeline satisfies PipelineWorkflow,
    [IDLE_MONITOR_WORKFLOW_TYPE]: idleWorkflows.idleMonitor satisfies IdleMonitorWorkflow,
    [IDLE_SWEEP_WORKFLOW_TYPE]: idleWorkflows.idleSweep satisfies IdleSweepWorkflow,
  };

  it('names exactly the workflows the control bundle registers', () => {
    const registered = Object.entries(workflows).filter(([, value]) => typeof value === 'function');
    expect(Object.keys(signatures).sort()).toEqual(registered.map(([name]) => name).sort());
    for (const [type, workflow] of Object.entries(signatures)) expect((workflows as Record<string, unknown>)[type]).toBe(workflow);
  });

  it('the idle bundle registers only the idle workflows, under the same names', () => {
    expect(Object.keys(idleWorkflows).sort()).toEqual([IDLE_MONITOR_WORKFLOW_TYPE, IDLE_SWEEP_WORKFLOW_TYPE].sort());
  });
});
