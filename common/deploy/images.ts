import { DLC_REGISTRY_ACCOUNTS } from '../fine-tune/images';

/**
 * The SERVING container image URI per region and container, from one small table of known-good tags
 * (shared/ENGINES.md, "Serving LLMs on SageMaker", checked 2026-12; tags move monthly, so a run may name
 * its own image). vLLM is the default: TGI has been frozen since 2025-12 (its repository archived
 * 2026-03) and the SageMaker Python SDK routes text generation to the Hugging Face vLLM image since
 * 2026-06. LMI (DJL Serving) is the alternative. Both images live in the Deep Learning Containers
 * registries that the training images use (one account table, common/fine-tune/images.ts).
 */

export const SERVING_CONTAINERS = ['vllm', 'lmi'] as const;
export type ServingContainer = (typeof SERVING_CONTAINERS)[number];

interface ServingImageEntry {
  repository: string;
  tag: string;
  /** CUDA 13 images fail to start (and log nothing) without this AMI on the production variant. */
  inferenceAmiVersion?: string;
  /** How the container takes its settings: vLLM turns SM_VLLM_FOO_BAR into --foo-bar; LMI reads OPTION_*. */
  settingsStyle: 'vllm' | 'lmi';
}

const CUDA_13_AMI = 'al2-ami-sagemaker-inference-gpu-3-1';

export const KNOWN_SERVING_IMAGES: Readonly<Record<ServingContainer, ServingImageEntry>> = {
  vllm: {
    repository: 'huggingface-vllm',
    tag: '0.30.0-transformers5.15.0-gpu-py312-cu130-ubuntu24.04',
    inferenceAmiVersion: CUDA_13_AMI,
    settingsStyle: 'vllm',
  },
  lmi: { repository: 'djl-inference', tag: '0.38.0-lmi29.0.0-cu130', inferenceAmiVersion: CUDA_13_AMI, settingsStyle: 'lmi' },
};

export class UnknownServingImageError extends Error {
  override name = 'UnknownServingImageError';
}

export function servingImageUri(region: string, container: ServingContainer): string {
  const account = DLC_REGISTRY_ACCOUNTS[region];
  if (!account) {
    throw new UnknownServingImageError(
      `no serving image registry known for region ${region}; known regions: ${Object.keys(DLC_REGISTRY_ACCOUNTS).join(', ')}. Set deploy.imageUri to an image you have checked`,
    );
  }
  const entry = KNOWN_SERVING_IMAGES[container];
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `${account}.dkr.ecr.${region}.${domain}/${entry.repository}:${entry.tag}`;
}

/** The AMI a variant needs for its image: the table's for its images; for any other image, one that names CUDA 13 (`cu130`) gets it too. */
export function inferenceAmiVersionFor(imageUri: string): string | undefined {
  const known = Object.values(KNOWN_SERVING_IMAGES).find((entry) => imageUri.endsWith(`/${entry.repository}:${entry.tag}`));
  if (known) return known.inferenceAmiVersion;
  return /[-_]cu13\d/.test(imageUri) ? CUDA_13_AMI : undefined;
}

/** Container settings as configuration, rendered into the environment each container reads. */
export interface ContainerSettings {
  maxModelLength: number;
  gpuMemoryUtilization: number;
  tensorParallelDegree?: number;
  /** Anything else, passed through as it is (e.g. `SM_VLLM_MAX_NUM_SEQS`). */
  extraEnvironment: Record<string, string>;
}

export function containerEnvironment(container: ServingContainer, settings: ContainerSettings): Record<string, string> {
  const environment: Record<string, string> =
    KNOWN_SERVING_IMAGES[container].settingsStyle === 'vllm'
      ? {
          SM_VLLM_MODEL: '/opt/ml/model',
          SM_VLLM_HOST: '0.0.0.0',
          SM_VLLM_MAX_MODEL_LEN: String(settings.maxModelLength),
          SM_VLLM_GPU_MEMORY_UTILIZATION: String(settings.gpuMemoryUtilization),
          ...(settings.tensorParallelDegree ? { SM_VLLM_TENSOR_PARALLEL_SIZE: String(settings.tensorParallelDegree) } : {}),
        }
      : {
          HF_MODEL_ID: '/opt/ml/model',
          OPTION_ROLLING_BATCH: 'vllm',
          OPTION_MAX_MODEL_LEN: String(settings.maxModelLength),
          OPTION_GPU_MEMORY_UTILIZATION: String(settings.gpuMemoryUtilization),
          ...(settings.tensorParallelDegree ? { OPTION_TENSOR_PARALLEL_DEGREE: String(settings.tensorParallelDegree) } : {}),
        };
  return { ...environment, ...settings.extraEnvironment };
}
