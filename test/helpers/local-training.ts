import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { extract } from 'tar';
import { FINE_TUNE_WORKFLOW_TYPE, fineTuneStatusQuery, type FineTuneInput, type FineTuneWorkflow } from '../../common/fine-tune/contract';
import { PREPARE_DATA_WORKFLOW_TYPE, type PrepareDataWorkflow } from '../../common/prepare-data/contract';
import { parseS3Uri } from '../../common/shared/naming';
import type { AwsClients } from '../../platform/aws-clients';
import { PROJECT_ROOT } from '../../platform/paths';
import { uniqueId } from './temporal';
import { waitFor } from './local-jobs';

/** What local-compute integration tests share: the sample corpus as a dataset, a run, a trained model read back. */

export const JOBS_PYTHON = join(PROJECT_ROOT, '.venv-jobs', 'bin', 'python');

/** examples/corpus through the real prepareData workflow; returns the dataset's URI. */
export async function prepareExampleDataset(client: Client, controlQueue: string): Promise<string> {
  const result = await client.workflow.execute<PrepareDataWorkflow>(PREPARE_DATA_WORKFLOW_TYPE, {
    taskQueue: controlQueue,
    workflowId: uniqueId('prepare-data'),
    args: [{ source: { kind: 'local', path: join(PROJECT_ROOT, 'examples/corpus') }, author: { name: 'Wren Castellanos' } }],
  });
  return result.datasetUri;
}

export function startFineTune(client: Client, controlQueue: string, input: FineTuneInput): Promise<WorkflowHandle<FineTuneWorkflow>> {
  return client.workflow.start<FineTuneWorkflow>(FINE_TUNE_WORKFLOW_TYPE, {
    taskQueue: controlQueue,
    workflowId: uniqueId('fine-tune'),
    args: [input],
  });
}

/** The job's name once the run has one, then its folder once training has logged `step` steps. */
export async function trainingJobAtStep(handle: WorkflowHandle<FineTuneWorkflow>, jobsDir: string, step: number): Promise<string> {
  let jobName: string | undefined;
  for (let tries = 0; !jobName && tries < 300; tries += 1) {
    jobName = (await handle.query(fineTuneStatusQuery)).jobName;
    if (!jobName) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  if (!jobName) throw new Error('the run never named a training job');
  await waitFor(jobsDir, jobName, (view) => (view.state.progress?.step ?? 0) >= step, 120_000);
  return jobName;
}

/** Downloads and unpacks a model.tar.gz from S3 into a fresh folder. */
export async function downloadModel(aws: AwsClients, artifactsUri: string, into: string): Promise<string> {
  const { bucket, key } = parseS3Uri(artifactsUri);
  const object = await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const archive = join(into, 'model.tar.gz');
  mkdirSync(join(into, 'model'), { recursive: true });
  writeFileSync(archive, await object.Body!.transformToByteArray());
  await extract({ file: archive, cwd: join(into, 'model') });
  return join(into, 'model');
}

const GENERATE = `
import json, sys
from transformers import AutoModelForCausalLM, AutoTokenizer
folder = sys.argv[1]
tokenizer = AutoTokenizer.from_pretrained(folder)
model = AutoModelForCausalLM.from_pretrained(folder)
prompt = tokenizer.apply_chat_template([{"role": "user", "content": sys.argv[2]}], add_generation_prompt=True, return_tensors="pt")
out = model.generate(prompt, max_new_tokens=40, do_sample=False, pad_token_id=tokenizer.pad_token_id)
print(json.dumps({"new_tokens": int(out.shape[1] - prompt.shape[1]), "text": tokenizer.decode(out[0, prompt.shape[1]:], skip_special_tokens=True)}))
`;

/** Loads the model folder with transformers, in the jobs venv, and generates from it. */
export async function generateFrom(modelDir: string, prompt: string): Promise<{ new_tokens: number; text: string }> {
  const { stdout } = await promisify(execFile)(JOBS_PYTHON, ['-c', GENERATE, modelDir, prompt], {
    env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_VERBOSITY: 'error' },
    timeout: 120_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as { new_tokens: number; text: string };
}
