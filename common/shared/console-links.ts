/**
 * Links into the AWS console for the SageMaker resources a run makes, so `progress` (and the CLI and
 * the Web UI through it) points a person straight at the job or endpoint. Pure: built from a region
 * and a name, or from an ARN, which carries its region.
 */

export type ConsoleResource = 'training-job' | 'processing-job' | 'endpoint';

const FRAGMENT: Record<ConsoleResource, string> = {
  'training-job': 'jobs',
  'processing-job': 'processing-jobs',
  endpoint: 'endpoints',
};

export function sageMakerConsoleUrl(region: string, resource: ConsoleResource, name: string): string {
  return `https://${region}.console.aws.amazon.com/sagemaker/home?region=${region}#/${FRAGMENT[resource]}/${encodeURIComponent(name)}`;
}

/** The region an ARN names (`arn:aws:sagemaker:<region>:<account>:...`), or undefined for anything else. */
export function regionOfArn(arn: string): string | undefined {
  const region = arn.split(':')[3];
  return arn.startsWith('arn:') && region ? region : undefined;
}
