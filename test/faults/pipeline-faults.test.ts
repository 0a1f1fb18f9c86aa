import { WorkflowFailedError } from '@temporalio/client';
import { findOrphans } from '../../activities/idle/orphans';
import { PIPELINE_WORKFLOW_TYPE, type PipelineWorkflow } from '../../common/pipeline/contract';
import { destroyAwsClients } from '../../platform/aws-clients';
import { PROJECT_ROOT } from '../../platform/paths';
import { duplicatesIn, injectFaults, type FaultLog } from '../helpers/aws-faults';
import { emulateClientTokens, emulateJobOutputs, SAGEMAKER_ON_MOTO } from '../helpers/moto-job-outputs';
import { testAwsClients, testConfig } from '../helpers/stack';
import { useStackWorkers } from '../helpers/stack-workers';
import { uniqueId } from '../helpers/temporal';
import { runPipelineOnMoto, sageMakerCounts } from '../helpers/pipeline-on-moto';

// The pipeline on SageMaker compute against moto with a quarter of all AWS attempts failing on the
// wire (throttling, 500s, resets before the call, answers lost after it): it completes, and nothing is
// created twice or left behind. A non-retryable error fails at once, after one attempt. Ends with a table.
jest.setTimeout(600_000);

const table: Array<{ case: string; passed: boolean; faults: number; leaked: number; duplicates: number }> = [];
afterAll(() => {
  const lines = table.map(
    (row) =>
      `${row.case.padEnd(48)} ${row.passed ? 'passed' : 'FAILED'}  ${String(row.faults).padStart(6)}  ${String(row.leaked).padStart(6)}  ${String(row.duplicates).padStart(10)}`,
  );
  process.stdout.write(
    [
      `\n${'case'.padEnd(48)} result  faults  leaked  duplicates`,
      ...lines,
      `${table.length} cases, ${table.filter((row) => row.passed).length} passed\n`,
    ].join('\n'),
  );
});

const faulted = (log: FaultLog) => Object.values(log.injected).reduce((sum, count) => sum + count, 0);
let log: FaultLog;
const deny = new Set<string>();
let share = 0.25;
// Each case's fault share is in its name; read before its workers (and their fault layer) start.
beforeEach(() => {
  const given = /under ([\d.]+) of/.exec(expect.getState().currentTestName ?? '')?.[1];
  share = given ? Number(given) : 0.25;
});
const stack = useStackWorkers({
  roles: ['control', 'data'],
  scope: 'each',
  maxAttempts: 3,
  config: () => testConfig(SAGEMAKER_ON_MOTO),
  beforeStart: (aws) => {
    emulateJobOutputs(aws);
    emulateClientTokens(aws);
    // moto's runtime answers from a queue, which a lost answer would drain: the smoke test's calls are spared.
    log = injectFaults(aws, { share, spare: (command) => command === 'InvokeEndpointCommand', deny });
  },
});

it.each([0.25, 0.4])(
  'completes under %s of attempts faulted on the wire, with one of every resource and nothing left over',
  async (given) => {
    const label = `pipeline, ${given * 100} % faults`;
    const passed = { value: false };
    const clean = testAwsClients(stack.config);
    try {
      const { result } = await runPipelineOnMoto(stack, 'pipeline-faults', 5);
      expect(result.outcome).toBe('served');

      const { sagemaker } = clean;
      const counts = await sageMakerCounts(stack, sagemaker, result.twin);
      expect(counts).toEqual({ trainingJobs: 1, processingJobs: 1, endpoints: 1, versions: 1 });
      const duplicates = duplicatesIn(log);
      expect(duplicates).toEqual([]);
      // Everything in SageMaker that the served endpoint does not use is a leak.
      const served = result.deployment!;
      const leftovers = await findOrphans(
        sagemaker,
        { configs: new Map([[served.configName, undefined]]), rollbackConfigs: new Set() },
        { prefix: stack.config.resourceNamePrefix, now: Date.now() + 1, graceMs: 0 },
      );
      expect(leftovers).toEqual({ endpointConfigs: [], models: [] });
      expect(faulted(log)).toBeGreaterThan(given * log.calls * 0.5);
      expect(log.injected.lostAnswer).toBeGreaterThan(0);
      passed.value = true;
      table.push({ case: `${label} (${log.calls} calls)`, passed: true, faults: faulted(log), leaked: 0, duplicates: duplicates.length });
    } finally {
      if (!passed.value) table.push({ case: label, passed: false, faults: faulted(log), leaked: -1, duplicates: -1 });
      destroyAwsClients(clean);
    }
  },
);

it('an error a person must fix (access denied) fails the run at once: one attempt, the stage and the call named', async () => {
  deny.add('CreateTrainingJobCommand');
  try {
    const error = await stack.client.workflow
      .execute<PipelineWorkflow>(PIPELINE_WORKFLOW_TYPE, {
        taskQueue: stack.queues.control,
        workflowId: uniqueId('pipeline-denied'),
        args: [{ source: { kind: 'local', path: `${PROJECT_ROOT}/examples/corpus` }, twin: uniqueId('wren') }],
      })
      .catch((failure: unknown) => failure as WorkflowFailedError);
    const chain: string[] = [];
    for (let cause: Error | undefined = (error as WorkflowFailedError).cause; cause; cause = cause.cause as Error | undefined)
      chain.push(cause.message);
    const passed = log.denied.CreateTrainingJobCommand === 1;
    table.push({ case: 'access denied on CreateTrainingJob', passed, faults: faulted(log), leaked: 0, duplicates: 0 });
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(chain[0]).toMatch(/the fine-tune stage failed/);
    expect(chain.join(' | ')).toMatch(/CreateTrainingJob .*AccessDenied/);
    expect(log.denied.CreateTrainingJobCommand).toBe(1);
  } finally {
    deny.clear();
  }
});
