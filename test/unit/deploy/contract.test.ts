import { DeployInputSchema } from '../../../common/deploy/contract';
import { containerEnvironment, inferenceAmiVersionFor, servingImageUri } from '../../../common/deploy/images';
import { configNameFor, endpointNameFor, modelNameFor } from '../../../common/deploy/plan';
import { describeIssues } from '../../../common/shared/validation';
import deployExample from '../../../examples/deploy.json';

function problems(value: unknown): string[] {
  const parsed = DeployInputSchema.safeParse(value);
  return parsed.success ? [] : describeIssues(parsed.error, DeployInputSchema).sort();
}

const MODEL = 's3://bucket/llmtwin/training/j/output/model.tar.gz';

describe('deploy input', () => {
  it('accepts the Web UI example (examples/deploy.json) and fills the defaults', () => {
    expect(problems(deployExample)).toEqual([]);
    expect(DeployInputSchema.parse({ modelUri: MODEL })).toMatchObject({
      twin: 'twin',
      trafficRouting: { type: 'ALL_AT_ONCE', waitInterval: '5m', terminationWait: '0s', maximumExecutionTimeout: '1h' },
      rollbackAlarms: [],
      monitor: { enabled: true },
    });
  });

  it('needs exactly one thing to serve, naming the fields', () => {
    expect(problems({})).toEqual([expect.stringMatching(/^modelVersionArn: name what to deploy/)]);
    expect(problems({ modelUri: MODEL, trainingJobName: 'j' })).toEqual([
      expect.stringMatching(/^modelUri: give one of modelVersionArn, trainingJobName, modelUri, not trainingJobName and modelUri/),
    ]);
    expect(problems({ modelUri: MODEL })).toEqual([]);
  });

  it('refuses unknown keys, a canary without its size, reserved tags and a malformed version ARN', () => {
    expect(problems({ modelUri: MODEL, trafficRouting: { typ: 'CANARY' } })).toEqual([
      expect.stringMatching(/^trafficRouting\.typ: unknown key; did you mean "type"\?/),
    ]);
    expect(problems({ modelUri: MODEL, trafficRouting: { type: 'CANARY' } })).toEqual([
      'trafficRouting.percent: CANARY needs percent: the share of capacity each step shifts, such as 10',
    ]);
    expect(problems({ modelUri: MODEL, tags: { 'llmtwin:x': '1' } })).toEqual([
      expect.stringMatching(/^tags\.llmtwin:x: the aws: and llmtwin: prefixes are reserved/),
    ]);
    expect(problems({ modelVersionArn: 'arn:aws:sagemaker:us-east-1:1:model-package/x' })).toEqual([
      expect.stringMatching(/^modelVersionArn: must be a model package version ARN/),
    ]);
  });
});

describe('serving images', () => {
  it('defaults to the Hugging Face vLLM image of the region, with the CUDA 13 AMI', () => {
    const image = servingImageUri('eu-west-1', 'vllm');
    expect(image).toBe(
      '763104351884.dkr.ecr.eu-west-1.amazonaws.com/huggingface-vllm:0.30.0-transformers5.15.0-gpu-py312-cu130-ubuntu24.04',
    );
    expect(inferenceAmiVersionFor(image)).toBe('al2-ami-sagemaker-inference-gpu-3-1');
    expect(servingImageUri('cn-north-1', 'lmi')).toBe(
      '727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/djl-inference:0.38.0-lmi29.0.0-cu130',
    );
    expect(inferenceAmiVersionFor('123.dkr.ecr.us-east-1.amazonaws.com/mine:1.0-cu124')).toBeUndefined();
    expect(inferenceAmiVersionFor('123.dkr.ecr.us-east-1.amazonaws.com/mine:1.0-cu130')).toBe('al2-ami-sagemaker-inference-gpu-3-1');
    expect(() => servingImageUri('mars-north-1', 'vllm')).toThrow(
      /no serving image registry known for region mars-north-1.*deploy\.imageUri/,
    );
  });

  it("renders the container settings in each container's own variables", () => {
    const settings = {
      maxModelLength: 8192,
      gpuMemoryUtilization: 0.85,
      tensorParallelDegree: 2,
      extraEnvironment: { SM_VLLM_MAX_NUM_SEQS: '16' },
    };
    expect(containerEnvironment('vllm', settings)).toEqual({
      SM_VLLM_MODEL: '/opt/ml/model',
      SM_VLLM_HOST: '0.0.0.0',
      SM_VLLM_MAX_MODEL_LEN: '8192',
      SM_VLLM_GPU_MEMORY_UTILIZATION: '0.85',
      SM_VLLM_TENSOR_PARALLEL_SIZE: '2',
      SM_VLLM_MAX_NUM_SEQS: '16',
    });
    expect(containerEnvironment('lmi', { ...settings, extraEnvironment: {} })).toMatchObject({
      OPTION_MAX_MODEL_LEN: '8192',
      OPTION_TENSOR_PARALLEL_DEGREE: '2',
    });
  });
});

describe('deployment names', () => {
  const parts = { endpointName: endpointNameFor('llmtwin', 'wren'), modelUri: MODEL, image: 'img', environment: { A: '1' } };

  it('are content-addressed: the same model and settings give the same names, any change a new one', () => {
    const model = modelNameFor('llmtwin', parts);
    expect(modelNameFor('llmtwin', { ...parts })).toBe(model);
    expect(modelNameFor('llmtwin', { ...parts, environment: { A: '2' } })).not.toBe(model);
    const config = configNameFor('llmtwin', {
      endpointName: parts.endpointName,
      modelName: model,
      instanceType: 'ml.g5.xlarge',
      instanceCount: 1,
      inferenceAmiVersion: null,
    });
    expect(
      configNameFor('llmtwin', {
        endpointName: parts.endpointName,
        modelName: model,
        instanceType: 'ml.g5.2xlarge',
        instanceCount: 1,
        inferenceAmiVersion: null,
      }),
    ).not.toBe(config);
    for (const name of [model, config, parts.endpointName]) expect(name).toMatch(/^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/);
    expect(parts.endpointName).toMatch(/^llmtwin-endpoint-wren-/);
  });
});
