import { PipelineInputSchema } from '../../../common/pipeline/contract';
import { describeIssues } from '../../../common/shared/validation';
import pipelineExample from '../../../examples/pipeline.json';
import pipelineAwsExample from '../../../examples/pipeline-aws.json';

function problems(value: unknown): string[] {
  const parsed = PipelineInputSchema.safeParse(value);
  return parsed.success ? [] : describeIssues(parsed.error, PipelineInputSchema).sort();
}

const source = { kind: 'local', path: 'examples/corpus' };

describe('the pipeline input', () => {
  it('needs only a source and a twin; the Web UI examples (local stack, real AWS) pass', () => {
    expect(problems({ source, twin: 'wren' })).toEqual([]);
    expect(problems(pipelineExample)).toEqual([]);
    expect(problems(pipelineAwsExample)).toEqual([]);
  });

  // Each refused at start, before anything runs, naming the field (with its path in the pipeline input) and the fix.
  it.each([
    [{ twin: 'wren' }, /^source: /],
    [{ source }, /^twin: /],
    [{ source, twin: 'Wren Castellanos' }, /^twin: must be lower-case letters, digits and single hyphens/],
    [{ source: { kind: 'ftp', path: 'x' }, twin: 'wren' }, /^source\.kind: /],
    [{ source, twin: 'wren', fineTuning: {} }, /^fineTuning: unknown key; did you mean "fineTune"\?/],
    [
      { source, twin: 'wren', prepareData: { chunk: { maxToken: 64 } } },
      /^prepareData\.chunk\.maxToken: unknown key; did you mean "maxTokens"\?/,
    ],
    [{ source, twin: 'wren', prepareData: { source } }, /^prepareData\.source: set by the pipeline itself/],
    [
      { source, twin: 'wren', fineTune: { hyperparameters: { epoch: 3 } } },
      /^fineTune\.hyperparameters\.epoch: unknown key; did you mean "epochs"\?/,
    ],
    [{ source, twin: 'wren', fineTune: { datasetUri: 's3://bucket/x/' } }, /^fineTune\.datasetUri: set by the pipeline itself/],
    [{ source, twin: 'wren', evaluate: { gate: { thresholds: { perplexity: 'low' } } } }, /^evaluate\.gate\.thresholds\.perplexity: /],
    [{ source, twin: 'wren', evaluate: { approval: { mode: 'maybe' } } }, /^evaluate\.approval\.mode: /],
    [{ source, twin: 'wren', deploy: { trafficRouting: { type: 'CANARY' } } }, /^deploy\.trafficRouting\.percent: CANARY needs percent/],
    [{ source, twin: 'wren', deploy: { enabled: 'no' } }, /^deploy\.enabled: must be true or false/],
    [{ source, twin: 'wren', deploy: { modelVersionArn: 'arn:x' } }, /^deploy\.modelVersionArn: set by the pipeline itself/],
  ])('refuses %j', (input, expected) => {
    expect(problems(input)).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  it('takes deploy.enabled false to stop at the registry, without checking deploy further', () => {
    expect(problems({ source, twin: 'wren', deploy: { enabled: false } })).toEqual([]);
  });
});
