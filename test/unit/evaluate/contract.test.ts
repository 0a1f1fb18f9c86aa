import { EvaluateInputSchema } from '../../../common/evaluate/contract';
import { describeIssues } from '../../../common/shared/validation';
import evaluateExample from '../../../examples/evaluate.json';

function problems(input: unknown): string[] {
  const parsed = EvaluateInputSchema.safeParse(input);
  return parsed.success ? [] : describeIssues(parsed.error, EvaluateInputSchema);
}

describe('the evaluate input', () => {
  it('accepts the Web UI example (examples/evaluate.json) and fills the defaults', () => {
    expect(problems(evaluateExample)).toEqual([]);
    const settings = EvaluateInputSchema.parse({ trainingJobName: 'llmtwin-train-x' });
    expect(settings).toMatchObject({
      twin: 'twin',
      decoding: { maxNewTokens: 256, temperature: 0.7, topP: 0.9, seed: 42, batchSize: 8 },
      gate: { thresholds: {} },
      approval: { mode: 'auto', onTimeout: 'reject' },
      force: false,
    });
  });

  it('needs a model: a training job, or model, dataset and base model together, never both', () => {
    expect(problems({})).toEqual([expect.stringContaining('trainingJobName: name the model to evaluate')]);
    expect(problems({ modelUri: 's3://my-bucket/m/model.tar.gz' })).toEqual([
      expect.stringContaining('datasetUri: name the model'),
      expect.stringContaining('baseModelId: name the base model'),
    ]);
    expect(problems({ modelUri: 's3://my-bucket/m/model.tar.gz', datasetUri: 's3://my-bucket/d/' })).toEqual([
      expect.stringContaining('baseModelId: name the base model'),
    ]);
    expect(problems({ trainingJobName: 'j', modelUri: 's3://my-bucket/m/model.tar.gz', datasetUri: 's3://my-bucket/d/' })).toEqual([
      expect.stringContaining('not both'),
    ]);
  });

  it('is strict: an unknown key, a metric that does not exist, a bad twin name are each named', () => {
    expect(problems({ trainingJobName: 'j', maxSample: 3 })).toEqual([expect.stringMatching(/maxSample.*maxSamples/)]);
    expect(problems({ trainingJobName: 'j', gate: { thresholds: { perplexty: 3 } } })[0]).toContain('perplexty');
    expect(problems({ trainingJobName: 'j', twin: 'Wren Castellanos' })[0]).toContain('twin');
    expect(problems({ trainingJobName: 'j', approval: { mode: 'manual', timeout: 'soon' } })[0]).toContain('approval.timeout');
    expect(problems({ trainingJobName: 'j', tags: { 'llmtwin:x': 'y' } })[0]).toContain('reserved');
  });
});
