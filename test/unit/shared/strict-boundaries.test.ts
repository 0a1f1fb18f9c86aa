import { ApprovalDecisionSchema, EvaluateInputSchema } from '../../../common/evaluate/contract';
import { FineTuneInputSchema } from '../../../common/fine-tune/contract';
import { checkPolicyPatch, checkSweepObservation, IdleMonitorInputSchema, IdleSweepInputSchema } from '../../../common/idle/schemas';
import { PrepareDataInputSchema } from '../../../common/prepare-data/contract';
import { maskSecrets, resolveConfig } from '../../../common/config';
import { unknownInstanceTypeProblem } from '../../../common/shared/instance-types';
import { describeIssues, withoutUnknownKeys } from '../../../common/shared/validation';
import { StackCheckInputSchema } from '../../../common/stack-check/contract';
import type { z } from 'zod';

/** What a boundary says about an input: its problems, one line each, or [] when it accepts it. */
function problems(schema: z.ZodType, value: unknown): string[] {
  const parsed = schema.safeParse(value);
  return parsed.success ? [] : describeIssues(parsed.error, schema).sort();
}

// Every boundary refuses an unknown key, naming it, where it was and the nearest valid key: before, a
// misspelt `chunk.maxToken` built a dataset with the default silently.
describe('strict boundaries', () => {
  const source = { kind: 'local', path: 'examples/corpus' };

  it('prepareData input, at every level', () => {
    expect(problems(PrepareDataInputSchema, { source, chunk: { maxToken: 64 }, dedup: { treshold: 0.99 }, bogusField: 1 })).toEqual([
      'bogusField: unknown key (valid in the input: source, author, formats, clean, dedup, chunk, instruct, split)',
      'chunk.maxToken: unknown key; did you mean "maxTokens"? (valid in chunk: maxTokens, overlapTokens, minTokens)',
      'dedup.treshold: unknown key; did you mean "threshold"? (valid in dedup: exact, near, threshold, shingleWords, permutations, keep, paragraphs)',
    ]);
    expect(problems(PrepareDataInputSchema, { source: { ...source, pth: 'x' } })).toEqual([
      'source.pth: unknown key; did you mean "path"? (valid in source: kind, path, uri)',
    ]);
    expect(problems(PrepareDataInputSchema, { source })).toEqual([]);
  });

  it('fineTune input', () => {
    const input = { datasetUri: 's3://bucket/llmtwin/datasets/abc/', instanceTyp: 'ml.p4d.24xlarge', hyperparameters: { epoch: 30 } };
    expect(problems(FineTuneInputSchema, input)).toEqual([
      expect.stringMatching(/^hyperparameters\.epoch: unknown key; did you mean "epochs"\?/),
      expect.stringMatching(/^instanceTyp: unknown key; did you mean "instanceType"\?/),
    ]);
    expect(problems(FineTuneInputSchema, { datasetUri: 's3://bucket/x/', hyperparameters: { lora: { rank: 8 } } })).toEqual([
      expect.stringMatching(
        /^hyperparameters\.lora\.rank: unknown key \(valid in hyperparameters\.lora: r, alpha, dropout, targetModules\)/,
      ),
    ]);
  });

  it('evaluate input, and the approve/reject Update', () => {
    expect(problems(EvaluateInputSchema, { trainingJobName: 'j', gate: { tolerence: 0.1 }, approval: { mod: 'manual' } })).toEqual([
      expect.stringMatching(/^approval\.mod: unknown key; did you mean "mode"\?/),
      expect.stringMatching(/^gate\.tolerence: unknown key; did you mean "tolerance"\?/),
    ]);
    expect(problems(ApprovalDecisionSchema, { by: 'ada', reason: 'fine', when: 'now' })).toEqual([
      expect.stringMatching(/^when: unknown key/),
    ]);
  });

  it('stackCheck, idleMonitor and idleSweep inputs', () => {
    expect(problems(StackCheckInputSchema, { mesage: 'hi' })).toEqual([
      expect.stringMatching(/^mesage: unknown key; did you mean "message"\?/),
    ]);
    expect(problems(IdleMonitorInputSchema, { endpointName: 'ep', policy: { windw: '2h' } })).toEqual([
      expect.stringMatching(/^policy\.windw: unknown key; did you mean "window"\?/),
    ]);
    expect(problems(IdleSweepInputSchema, { mode: 'report', deleteModels: false })).toEqual([
      expect.stringMatching(/^deleteModels: unknown key; did you mean "deleteModel"\?/),
    ]);
  });

  it('the setPolicy signal refuses an unknown key, and a window shorter than the interval', () => {
    expect(checkPolicyPatch({ windw: '2h' })).toEqual({
      accepted: false,
      reason: expect.stringMatching(/^windw: unknown key; did you mean "window"\?/) as unknown,
    });
    expect(problems(IdleMonitorInputSchema, { endpointName: 'ep', policy: { window: '1m', checkInterval: '10m' } })).toEqual([
      'policy.window: window (1m) is shorter than checkInterval (10m): make the window at least one interval',
    ]);
  });

  it("the sweep's observe signal: an observation with extra fields is not used", () => {
    const observation = {
      found: true,
      endpointName: 'ep',
      observedAt: 1,
      windowMs: 60_000,
      status: 'InService',
      creationTime: 0,
      lastModifiedTime: 0,
      variants: [],
      managed: true,
      keep: false,
      lastInvocationAt: null,
      invocationsInWindow: 0,
    };
    expect(checkSweepObservation(observation)).toEqual(observation);
    expect(checkSweepObservation({ ...observation, invocations: 3 })).toBeNull();
  });

  it('withoutUnknownKeys reads an input the way the lenient schemas of old did (replay of older histories)', () => {
    const raw = { source: { ...source, extra: 1 }, chunk: { maxToken: 64, maxTokens: 512 }, bogusField: 1 };
    expect(withoutUnknownKeys(PrepareDataInputSchema, raw)).toEqual({ source, chunk: { maxTokens: 512 } });
    expect(PrepareDataInputSchema.safeParse(withoutUnknownKeys(PrepareDataInputSchema, raw)).success).toBe(true);
  });
});

describe('secrets in printed config', () => {
  it('are masked, and an unset one stays unset', () => {
    const config = resolveConfig({ LLMTWIN_GENERATOR_API_KEY: 'sk-secret', TEMPORAL_API_KEY: 'tmprl-secret' });
    const masked = maskSecrets(config);
    expect(JSON.stringify(masked)).not.toMatch(/sk-secret|tmprl-secret/);
    expect(masked.generator.apiKey).toBe('<set>');
    expect(masked.temporal.apiKey).toBe('<set>');
    expect(config.generator.apiKey).toBe('sk-secret');
    expect(maskSecrets(resolveConfig({})).generator.apiKey).toBeUndefined();
  });
});

describe('instance types', () => {
  it('known ones pass, typos name the nearest known type, new ones pass once listed as extra', () => {
    expect(unknownInstanceTypeProblem('ml.g5.2xlarge')).toBeUndefined();
    expect(unknownInstanceTypeProblem('ml.g5.2xlarg')).toMatch(/did you mean ml\.g5\.2xlarge\?/);
    expect(unknownInstanceTypeProblem('ml.p4.24xlarge')).toMatch(/did you mean ml\.p4d\.24xlarge\?/);
    expect(unknownInstanceTypeProblem('ml.fake.xlarge')).toMatch(/known families: t2, t3, .*g5, g6/);
    expect(unknownInstanceTypeProblem('ml.p6-b200.48xlarge')).toMatch(/sagemaker\.extraInstanceTypes/);
    expect(unknownInstanceTypeProblem('ml.p6-b200.48xlarge', ['ml.p6-b200.48xlarge'])).toBeUndefined();
  });

  it('config refuses an unknown default type, and accepts it once listed', () => {
    expect(() => resolveConfig({ LLMTWIN_TRAINING_INSTANCE_TYPE: 'ml.g5.3xlarge' })).toThrow(
      /sagemaker\.trainingInstanceType .*ml\.g5\.3xlarge is not a SageMaker instance type/,
    );
    const config = resolveConfig({
      LLMTWIN_TRAINING_INSTANCE_TYPE: 'ml.p6-b200.48xlarge',
      LLMTWIN_EXTRA_INSTANCE_TYPES: 'ml.p6-b200.48xlarge',
    });
    expect(config.sagemaker.trainingInstanceType).toBe('ml.p6-b200.48xlarge');
  });
});
