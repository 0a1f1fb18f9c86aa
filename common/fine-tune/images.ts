/**
 * The Hugging Face PyTorch TRAINING container (AWS Deep Learning Container) image URI, per region and
 * framework versions, from a small table of known-good entries.
 *
 * Sources (public; checked when this table was written):
 * - Registry account per region: aws/sagemaker-python-sdk
 *   src/sagemaker/image_uri_config/huggingface.json ("training" -> "registries"), plus ap-southeast-3
 *   and me-central-1 from aws/deep-learning-containers available_images.md.
 * - Version combinations and tags: the same huggingface.json ("training" -> "versions" ->
 *   "<transformers>" -> "pytorch<version>": py_versions, container_version), which
 *   `sagemaker.image_uris.retrieve(framework="huggingface", version="4.56.2",
 *   base_framework_version="pytorch2.8.0", py_version="py312", image_scope="training")` resolves to
 *   `...huggingface-pytorch-training:2.8.0-transformers4.56.2-gpu-py312-cu129-ubuntu22.04`; the
 *   libraries inside each image are in aws/deep-learning-containers
 *   huggingface/pytorch/training/docker/<torch>/py3/<cuda>/Dockerfile.gpu.
 *
 * jobs/train/requirements.txt pins the libraries of DEFAULT_TRAINING_IMAGE (the CI tests run those
 * versions). Another row runs the entry point on that image's CUDA/torch/Python, with the pinned
 * libraries installed over the image's own by the SageMaker training toolkit.
 */

export interface TrainingImageVersion {
  /** Hugging Face transformers version the image ships, e.g. `4.56.2`. */
  transformers: string;
  /** PyTorch version, e.g. `2.8.0`. */
  pytorch: string;
}

interface TrainingImageEntry extends TrainingImageVersion {
  python: string;
  /** The tag's device suffix: CUDA and OS. */
  container: string;
  /** Libraries inside the image (for people choosing a row; the job pins its own in requirements.txt). */
  libraries: { trl: string; peft: string; accelerate: string; datasets: string };
}

export const KNOWN_TRAINING_IMAGES: readonly TrainingImageEntry[] = [
  {
    transformers: '4.56.2',
    pytorch: '2.8.0',
    python: 'py312',
    container: 'cu129-ubuntu22.04',
    libraries: { trl: '0.23.0', peft: '0.17.1', accelerate: '1.10.1', datasets: '4.1.0' },
  },
  {
    transformers: '5.3.0',
    pytorch: '2.9.0',
    python: 'py312',
    container: 'cu130-ubuntu22.04',
    libraries: { trl: '0.28.0', peft: '0.18.1', accelerate: '1.12.0', datasets: '4.5.0' },
  },
];

export const DEFAULT_TRAINING_IMAGE: TrainingImageVersion = { transformers: '4.56.2', pytorch: '2.8.0' };

/** ECR registry account of the Deep Learning Containers, per region. */
export const DLC_REGISTRY_ACCOUNTS: Readonly<Record<string, string>> = {
  'af-south-1': '626614931356',
  'ap-east-1': '871362719292',
  'ap-northeast-1': '763104351884',
  'ap-northeast-2': '763104351884',
  'ap-northeast-3': '364406365360',
  'ap-south-1': '763104351884',
  'ap-southeast-1': '763104351884',
  'ap-southeast-2': '763104351884',
  'ap-southeast-3': '907027046896',
  'ca-central-1': '763104351884',
  'cn-north-1': '727897471807',
  'cn-northwest-1': '727897471807',
  'eu-central-1': '763104351884',
  'eu-north-1': '763104351884',
  'eu-south-1': '692866216735',
  'eu-west-1': '763104351884',
  'eu-west-2': '763104351884',
  'eu-west-3': '763104351884',
  'me-central-1': '914824155844',
  'me-south-1': '217643126080',
  'sa-east-1': '763104351884',
  'us-east-1': '763104351884',
  'us-east-2': '763104351884',
  'us-gov-west-1': '442386744353',
  'us-west-1': '763104351884',
  'us-west-2': '763104351884',
};

export class UnknownTrainingImageError extends Error {
  override name = 'UnknownTrainingImageError';
}

/**
 * `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/huggingface-pytorch-training:<torch>-transformers<v>-gpu-<py>-<cuda-os>`.
 * Throws UnknownTrainingImageError naming the known choices for a version pair or region not in the
 * table (pass an explicit image URI to use anything else).
 */
export function trainingImageUri(region: string, version: TrainingImageVersion = DEFAULT_TRAINING_IMAGE): string {
  const entry = KNOWN_TRAINING_IMAGES.find(
    (candidate) => candidate.transformers === version.transformers && candidate.pytorch === version.pytorch,
  );
  if (!entry) {
    const known = KNOWN_TRAINING_IMAGES.map((candidate) => `transformers ${candidate.transformers} + pytorch ${candidate.pytorch}`).join(
      ', ',
    );
    throw new UnknownTrainingImageError(
      `no known Hugging Face training image for transformers ${version.transformers} + pytorch ${version.pytorch}; known: ${known}. Pick one of those or pass an explicit image URI (image.uri)`,
    );
  }
  const account = DLC_REGISTRY_ACCOUNTS[region];
  if (!account) {
    throw new UnknownTrainingImageError(
      `no Hugging Face training image registry known for region ${region}; known regions: ${Object.keys(DLC_REGISTRY_ACCOUNTS).join(', ')}. Pass an explicit image URI (image.uri)`,
    );
  }
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `${account}.dkr.ecr.${region}.${domain}/huggingface-pytorch-training:${entry.pytorch}-transformers${entry.transformers}-gpu-${entry.python}-${entry.container}`;
}
