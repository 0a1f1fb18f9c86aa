import { z } from 'zod';
import { INSTANCE_TYPE_PATTERN, S3_URI_PATTERN, SAGEMAKER_NAME_MAX, SAGEMAKER_NAME_PATTERN } from './naming';

/**
 * The primitive boundary schemas every stage shares, each written once: config and the stages'
 * workflow inputs check the same things with the same messages. Zod-based, so kept out of the idle
 * workflows' import graph (their patterns live in naming.ts, which is zod-free).
 */

/** Job, model, endpoint and config names (SageMaker's rule). */
export const SageMakerNameSchema = z
  .string()
  .max(SAGEMAKER_NAME_MAX, `must be at most ${SAGEMAKER_NAME_MAX} characters (SageMaker name rules)`)
  .regex(SAGEMAKER_NAME_PATTERN, 'use letters, digits and single hyphens (SageMaker name rules)');

export const S3BucketSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)');

/** An S3 URI with a valid bucket; `example` shows what this field expects. */
export function s3UriSchema(example: string) {
  return z.string().regex(S3_URI_PATTERN, `must be an S3 URI such as "${example}"`);
}

export const InstanceTypeSchema = z.string().regex(INSTANCE_TYPE_PATTERN, 'must look like "ml.g5.2xlarge"');

export const SecretArnSchema = z
  .string()
  .regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/, 'must be a Secrets Manager secret ARN');

/** The name of an environment variable (of the worker, or of a job), never its value. */
export const EnvVarNameSchema = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name such as "HF_TOKEN"');

/** A version such as "4.56.2", as the image tables key their rows. */
export const SemverSchema = z.string().regex(/^\d+\.\d+\.\d+$/, 'must be a version such as "4.56.2"');
