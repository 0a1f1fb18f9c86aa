import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { CreateProcessingJobCommandInput } from '@aws-sdk/client-sagemaker';
import { GATE_METRICS } from '../../common/evaluate/gate';
import type { EvaluationReport } from '../../common/evaluate/report';
import { parseS3Uri } from '../../common/shared/naming';
import type { AwsClients } from '../../platform/aws-clients';

/**
 * What the pipeline on SageMaker compute needs of moto, which completes jobs at once but runs no
 * container (bench/pipeline.ts, the pipeline's SageMaker test): the one output a later stage reads back
 * (the evaluation job's evaluation.json), written when the job is created, and what the runtime answers.
 */

/** Config for SageMaker compute against moto: moto refuses ml.g5.* in endpoint configs; its jobs end at once, so poll fast. */
export const SAGEMAKER_ON_MOTO: Readonly<Record<string, string>> = {
  LLMTWIN_COMPUTE_BACKEND: 'sagemaker',
  LLMTWIN_INFERENCE_INSTANCE_TYPE: 'ml.m5.large',
  LLMTWIN_POLL_INITIAL_INTERVAL: '100ms',
  LLMTWIN_POLL_MAX_INTERVAL: '500ms',
};

/** An SDK middleware: with each CreateProcessingJob, the report jobs/evaluate would upload, with a twin better than its base. */
export function emulateJobOutputs(aws: AwsClients): void {
  aws.sagemaker.middlewareStack.add(
    (next, context) => async (args) => {
      // Before the call: a create whose answer is lost has still made the job, which its retry then adopts without a create.
      if (context.commandName === 'CreateProcessingJobCommand')
        await writeEvaluationReport(aws, args.input as CreateProcessingJobCommandInput);
      return next(args);
    },
    { step: 'initialize', name: 'benchEmulateJobOutputs' },
  );
}

/**
 * SageMaker's ClientToken, which moto ignores: CreateModelPackage with a token already used answers
 * what the first call answered (concurrent calls included) instead of registering a second version.
 */
export function emulateClientTokens(aws: AwsClients): void {
  const byToken = new Map<string, Promise<unknown>>();
  aws.sagemaker.middlewareStack.add(
    (next, context) => (args) => {
      const token = (args.input as { ClientToken?: string }).ClientToken;
      if (context.commandName !== 'CreateModelPackageCommand' || !token) return next(args);
      const first = byToken.get(token);
      if (first) return first as ReturnType<typeof next>;
      const call = next(args);
      byToken.set(token, call);
      call.catch(() => byToken.delete(token));
      return call;
    },
    { step: 'initialize', name: 'emulateClientTokens' },
  );
}

async function writeEvaluationReport(aws: AwsClients, request: CreateProcessingJobCommandInput): Promise<void> {
  const output = request.ProcessingOutputConfig?.Outputs?.find((entry) => entry.OutputName === 'evaluation')?.S3Output?.S3Uri;
  if (!output) throw new Error(`processing job ${request.ProcessingJobName} has no "evaluation" output`);
  const metrics = (scale: number) =>
    Object.fromEntries(GATE_METRICS.map((name) => [name, name === 'perplexity' ? 20 * scale : 0.5 / scale]));
  const report: EvaluationReport = {
    schema_version: 1,
    model: { artifacts: 's3://emulated/model.tar.gz', base_model_id: 'emulated' },
    decoding: { max_new_tokens: 32, temperature: 0, top_p: 1, seed: 0, batch_size: 1 },
    samples_scored: 1,
    metrics: { twin: metrics(1), base: metrics(2) },
    difference: Object.fromEntries(GATE_METRICS.map((name) => [name, 0])),
    judge: null,
    training_loss: [[1, 2.5]],
    samples: [],
  };
  const { bucket, key } = parseS3Uri(`${output.replace(/\/?$/, '/')}evaluation.json`);
  await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(report), ContentType: 'application/json' }));
}

/** A chat completion, as vLLM's OpenAI-compatible server answers. */
export function chatAnswer(content: string): unknown {
  return { choices: [{ message: { role: 'assistant', content } }] };
}

/** What moto's SageMaker runtime answers the next InvokeEndpoint (by default a chat completion). */
export async function queueEndpointAnswer(motoUrl: string, body: unknown = chatAnswer('Harbours, mostly.')): Promise<void> {
  const response = await fetch(`${motoUrl}/moto-api/static/sagemaker/endpoint-results`, {
    method: 'POST',
    body: JSON.stringify({ results: [{ Body: JSON.stringify(body), ContentType: 'application/json' }] }),
  });
  if (response.status !== 201) throw new Error(`moto refused the queued answer: HTTP ${response.status}`);
}
