import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { HuggingFaceTokenSource } from '../../common/fine-tune/contract';
import { awsCall } from '../aws/errors';
import { validationFailure } from '../../common/shared/validation';
import type { SecretsSender } from '../aws/clients';

/**
 * The Hugging Face token for gated base models, resolved inside the create activity so it never enters
 * workflow history: the input names where it is (a secret ARN or a worker environment variable), not
 * the token. Messages never include the value.
 */
export async function resolveHuggingFaceToken(options: {
  source: HuggingFaceTokenSource | undefined;
  defaultSecretArn: string | undefined;
  defaultEnvVar: string;
  env: NodeJS.ProcessEnv;
  secretsManager: SecretsSender;
  abortSignal?: AbortSignal;
}): Promise<string | undefined> {
  const source = options.source ?? (options.defaultSecretArn ? { secretArn: options.defaultSecretArn } : undefined);
  if (source && 'secretArn' in source) {
    const secret = await awsCall({ operation: 'GetSecretValue', resource: `secret ${source.secretArn}` }, () =>
      options.secretsManager.send(new GetSecretValueCommand({ SecretId: source.secretArn }), { abortSignal: options.abortSignal }),
    );
    const token = tokenFromSecretString(secret.SecretString);
    if (!token) {
      throw validationFailure(
        `secret ${source.secretArn} holds no Hugging Face token: store the token as the secret string, or as JSON {"HF_TOKEN": "hf_..."}`,
      );
    }
    return token;
  }
  if (source && 'workerEnv' in source) {
    const token = options.env[source.workerEnv]?.trim();
    if (!token)
      throw validationFailure(
        `huggingFaceToken.workerEnv: ${source.workerEnv} is not set in the worker's environment; set it there or use a secretArn`,
      );
    return token;
  }
  // No source named: the default variable when the worker has it (ungated models need no token).
  return options.env[options.defaultEnvVar]?.trim() || undefined;
}

function tokenFromSecretString(value: string | undefined): string | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (!text.startsWith('{')) return text;
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const token = parsed.HF_TOKEN ?? parsed.HUGGING_FACE_HUB_TOKEN ?? parsed.token;
    return typeof token === 'string' && token.trim() ? token.trim() : undefined;
  } catch {
    return undefined;
  }
}
