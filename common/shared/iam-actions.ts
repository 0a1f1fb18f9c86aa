/**
 * The IAM action each AWS SDK command needs. Most are `<service>:<command name>`; S3's are not, and
 * lib-storage's Upload sends several commands that all need s3:PutObject (and s3:AbortMultipartUpload
 * when it gives up). test/unit/shared/iam-policies.test.ts maps every command the code imports through
 * this and checks the policies grant exactly those actions.
 */

/** The IAM service prefix of each `@aws-sdk/<package>` the project sends commands with. */
export const IAM_SERVICE_OF_PACKAGE: Readonly<Record<string, string>> = {
  'client-s3': 's3',
  'lib-storage': 's3',
  'client-sagemaker': 'sagemaker',
  'client-sagemaker-runtime': 'sagemaker',
  'client-cloudwatch': 'cloudwatch',
  'client-application-auto-scaling': 'application-autoscaling',
  'client-secrets-manager': 'secretsmanager',
};

/** Where the action's name differs from the command's (AWS's "Actions defined by Amazon S3" table). */
const S3_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  HeadObject: ['s3:GetObject'],
  HeadBucket: ['s3:ListBucket'],
  ListObjectsV2: ['s3:ListBucket'],
  ListParts: ['s3:ListMultipartUploadParts'],
  ListMultipartUploads: ['s3:ListBucketMultipartUploads'],
  PutBucketLifecycleConfiguration: ['s3:PutLifecycleConfiguration'],
  GetBucketLifecycleConfiguration: ['s3:GetLifecycleConfiguration'],
  // lib-storage: CreateMultipartUpload, UploadPart, CompleteMultipartUpload or one PutObject; aborts on failure.
  Upload: ['s3:PutObject', 's3:AbortMultipartUpload'],
};

/**
 * The IAM actions an imported SDK name needs: `GetObjectCommand` from client-s3 -> s3:GetObject,
 * `paginateListObjectsV2` -> s3:ListBucket, lib-storage's `Upload` -> s3:PutObject and s3:AbortMultipartUpload.
 */
export function iamActionsFor(sdkPackage: string, importedName: string): string[] {
  const service = IAM_SERVICE_OF_PACKAGE[sdkPackage];
  if (!service) throw new Error(`no IAM service is known for @aws-sdk/${sdkPackage}: add it to IAM_SERVICE_OF_PACKAGE`);
  const operation = importedName.replace(/Command$/, '').replace(/^paginate/, '');
  if (service === 's3' && S3_ACTIONS[operation]) return [...S3_ACTIONS[operation]];
  return [`${service}:${operation}`];
}
