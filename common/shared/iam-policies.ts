import { MANAGED_TAG, parseS3Uri, slug } from './naming';

/**
 * The IAM policies llmtwin needs, built from the deployment's own config: the worker's (every AWS call
 * the workers make), the operator's (the CLI and the typed client) and the SageMaker execution role's
 * (what the training, processing and serving containers do). Each grants only the actions its
 * programs' code sends (test/unit/shared/iam-policies.test.ts derives them from the imports), plus
 * COMPANION_ACTIONS, scoped to the configured bucket and prefix and to names starting with the
 * resource prefix; where a name cannot be known (endpoints may be named by the user, and a monitor may
 * watch an endpoint llmtwin did not make) the statement is scoped by the llmtwin:managed tag instead.
 * `llmtwin iam <role>` prints them.
 */

export interface IamScope {
  partition: string;
  region: string;
  account: string;
  bucket: string;
  /** The configured S3 prefix ("" or ending with "/"). */
  prefix: string;
  resourceNamePrefix: string;
  executionRoleArn: string;
  /** sources.s3Allowed: prefixes the data worker may read writing from. */
  sourcePrefixes: readonly string[];
  /** Secrets the workers (Hugging Face token) or the jobs (judge API key) read. */
  secretArns: readonly string[];
}

export type IamRole = 'worker' | 'operator' | 'execution-role';

interface Statement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: Statement[];
}

const inService = (service: string, names: readonly string[]) => names.map((name) => `${service}:${name}`);

/**
 * What both the worker and the CLI send: reading endpoints and the registry, invoking, approving a
 * version, and an endpoint's teardown (the CLI's fleet report runs the sweep's code, teardown included).
 */
const SHARED_ACTIONS: readonly string[] = [
  ...inService('application-autoscaling', [
    'DeleteScalingPolicy',
    'DeregisterScalableTarget',
    'DescribeScalableTargets',
    'DescribeScalingPolicies',
  ]),
  'cloudwatch:GetMetricData',
  's3:GetObject',
  ...inService('sagemaker', [
    'DeleteEndpoint',
    'DeleteEndpointConfig',
    'DeleteModel',
    'DescribeEndpoint',
    'DescribeEndpointConfig',
    'DescribeModel',
    'DescribeModelPackage',
    'InvokeEndpoint',
    'InvokeEndpointWithResponseStream',
    'ListEndpointConfigs',
    'ListEndpoints',
    'ListModelPackages',
    'ListModels',
    'ListTags',
    'UpdateModelPackage',
  ]),
];

/** The actions the worker's code sends (the test checks this list against the code, both ways). */
export const WORKER_ACTIONS: readonly string[] = [
  ...SHARED_ACTIONS,
  ...inService('application-autoscaling', ['PutScalingPolicy', 'RegisterScalableTarget']),
  ...inService('s3', ['AbortMultipartUpload', 'CreateBucket', 'GetLifecycleConfiguration', 'ListBucket', 'ListBucketMultipartUploads']),
  ...inService('s3', ['ListMultipartUploadParts', 'PutLifecycleConfiguration', 'PutObject']),
  ...inService('sagemaker', [
    'AddTags',
    'CreateEndpoint',
    'CreateEndpointConfig',
    'CreateModel',
    'CreateModelPackage',
    'CreateModelPackageGroup',
    'CreateProcessingJob',
    'CreateTrainingJob',
    'DeleteTags',
    'DescribeModelPackageGroup',
    'DescribeProcessingJob',
    'DescribeTrainingJob',
    'StopProcessingJob',
    'StopTrainingJob',
    'UpdateEndpoint',
  ]),
  'secretsmanager:GetSecretValue',
];

/**
 * The actions the CLI and the typed client can send with a person's credentials (the shared ones):
 * workflows it starts run on the worker, with the worker's policy.
 */
export const OPERATOR_ACTIONS: readonly string[] = SHARED_ACTIONS;

/**
 * Granted although no SDK command of ours is named after them: AWS checks them on the caller's behalf.
 * The key says which sent action brings each in.
 */
export const COMPANION_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  // CreateTrainingJob, CreateProcessingJob and CreateModel hand SageMaker the execution role.
  'sagemaker:CreateTrainingJob': ['iam:PassRole'],
  'sagemaker:CreateProcessingJob': ['iam:PassRole'],
  'sagemaker:CreateModel': ['iam:PassRole'],
  // Target tracking creates and deletes its CloudWatch alarms with the caller's permissions; the first
  // scalable target of an account creates Application Auto Scaling's service-linked role for SageMaker.
  'application-autoscaling:PutScalingPolicy': ['cloudwatch:PutMetricAlarm', 'cloudwatch:DescribeAlarms', 'cloudwatch:DeleteAlarms'],
  'application-autoscaling:DeleteScalingPolicy': ['cloudwatch:DeleteAlarms', 'cloudwatch:DescribeAlarms'],
  'application-autoscaling:RegisterScalableTarget': ['iam:CreateServiceLinkedRole'],
};

const MANAGED = { [`aws:ResourceTag/${MANAGED_TAG.key}`]: MANAGED_TAG.value };
const TAGGED_ON_CREATE = { [`aws:RequestTag/${MANAGED_TAG.key}`]: MANAGED_TAG.value };

/** Every statement any role may need; a role's policy keeps the actions it sends, and drops empty statements. */
function catalog(scope: IamScope): Statement[] {
  const arn = (service: string, resource: string, region = scope.region) =>
    `arn:${scope.partition}:${service}:${region}:${scope.account}:${resource}`;
  // SageMaker lower-cases names in ARNs; every name llmtwin makes starts with the slugged prefix.
  const ours = (type: string) => arn('sagemaker', `${type}/${slug(scope.resourceNamePrefix)}-*`);
  const any = (type: string) => arn('sagemaker', `${type}/*`);
  const bucket = `arn:${scope.partition}:s3:::${scope.bucket}`;
  const sources = scope.sourcePrefixes.map((uri) => parseS3Uri(uri));
  const statement = (Sid: string, Action: string[], Resource: string[], Condition?: Statement['Condition']): Statement => ({
    Sid,
    Effect: 'Allow',
    Action,
    Resource,
    ...(Condition ? { Condition } : {}),
  });
  return [
    // Reads: the whole bucket is an allowed source of writing (sources.s3Allowed adds others below).
    statement('ReadTheBucket', ['s3:GetObject'], [`${bucket}/*`]),
    statement('ListTheBucket', ['s3:ListBucket', 's3:ListBucketMultipartUploads'], [bucket]),
    // Writes only under the prefix: datasets, training code, models, reports.
    statement(
      'WriteUnderThePrefix',
      ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      [`${bucket}/${scope.prefix}*`],
    ),
    // The setup makes the bucket when missing and applies the rule that aborts dead multipart uploads.
    statement('SetUpTheBucket', ['s3:CreateBucket', 's3:GetLifecycleConfiguration', 's3:PutLifecycleConfiguration'], [bucket]),
    ...sources.flatMap((source, index) => [
      statement(`ReadAllowedSource${index + 1}`, ['s3:GetObject'], [`arn:${scope.partition}:s3:::${source.bucket}/${source.key}*`]),
      statement(`ListAllowedSource${index + 1}`, ['s3:ListBucket'], [`arn:${scope.partition}:s3:::${source.bucket}`], {
        StringLike: { 's3:prefix': [`${source.key}*`] },
      }),
    ]),
    // Creates: named with the prefix and tagged llmtwin:managed=true at creation.
    statement(
      'CreateTaggedResources',
      [
        'sagemaker:CreateTrainingJob',
        'sagemaker:CreateProcessingJob',
        'sagemaker:CreateModel',
        'sagemaker:CreateEndpointConfig',
        'sagemaker:CreateModelPackageGroup',
      ],
      ['training-job', 'processing-job', 'model', 'endpoint-config', 'model-package-group'].map(ours),
      { StringEquals: TAGGED_ON_CREATE },
    ),
    // A twin's endpoint may carry a name the user chose (deploy's endpointName): scoped by its tag.
    statement('CreateTaggedEndpoints', ['sagemaker:CreateEndpoint'], [any('endpoint')], { StringEquals: TAGGED_ON_CREATE }),
    statement('RegisterModelVersions', ['sagemaker:CreateModelPackage', 'sagemaker:UpdateModelPackage'], [ours('model-package')]),
    statement(
      'TagOurResources',
      ['sagemaker:AddTags', 'sagemaker:DeleteTags'],
      ['training-job', 'processing-job', 'model', 'endpoint-config'].map(ours),
    ),
    statement('TagEndpointsAtCreation', ['sagemaker:AddTags'], [any('endpoint')], { StringEquals: TAGGED_ON_CREATE }),
    statement('UntagManagedEndpoints', ['sagemaker:DeleteTags'], [any('endpoint')], { StringEquals: MANAGED }),
    statement(
      'ChangeManagedResources',
      [
        'sagemaker:StopTrainingJob',
        'sagemaker:StopProcessingJob',
        'sagemaker:UpdateEndpoint',
        'sagemaker:DeleteEndpointConfig',
        'sagemaker:DeleteModel',
      ],
      [any('training-job'), any('processing-job'), any('endpoint'), any('endpoint-config'), any('model')],
      { StringEquals: MANAGED },
    ),
    // An idle monitor may watch an endpoint llmtwin did not make (`endpoints monitor`); tag one llmtwin:keep=true
    // to keep it, or add the condition above to this statement to let llmtwin delete only its own.
    statement('DeleteWatchedEndpoints', ['sagemaker:DeleteEndpoint'], [any('endpoint')]),
    statement('InvokeEndpoints', ['sagemaker:InvokeEndpoint', 'sagemaker:InvokeEndpointWithResponseStream'], [any('endpoint')]),
    // Reads of metadata: a watched endpoint, its config and model may be anyone's; List* has no resource scope.
    statement(
      'ReadSageMaker',
      [
        'sagemaker:DescribeTrainingJob',
        'sagemaker:DescribeProcessingJob',
        'sagemaker:DescribeEndpoint',
        'sagemaker:DescribeEndpointConfig',
        'sagemaker:DescribeModel',
        'sagemaker:DescribeModelPackage',
        'sagemaker:DescribeModelPackageGroup',
        'sagemaker:ListTags',
      ],
      [
        any('training-job'),
        any('processing-job'),
        any('endpoint'),
        any('endpoint-config'),
        any('model'),
        ours('model-package'),
        ours('model-package-group'),
      ],
    ),
    statement(
      'ListSageMaker',
      ['sagemaker:ListEndpoints', 'sagemaker:ListEndpointConfigs', 'sagemaker:ListModels', 'sagemaker:ListModelPackages'],
      ['*'],
    ),
    statement('PassTheExecutionRole', ['iam:PassRole'], [scope.executionRoleArn], {
      StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' },
    }),
    // Application Auto Scaling has no resource-level scope for SageMaker variants.
    statement(
      'ScaleEndpoints',
      [
        'application-autoscaling:RegisterScalableTarget',
        'application-autoscaling:DeregisterScalableTarget',
        'application-autoscaling:DescribeScalableTargets',
        'application-autoscaling:PutScalingPolicy',
        'application-autoscaling:DeleteScalingPolicy',
        'application-autoscaling:DescribeScalingPolicies',
      ],
      ['*'],
    ),
    statement(
      'TargetTrackingAlarms',
      ['cloudwatch:PutMetricAlarm', 'cloudwatch:DescribeAlarms', 'cloudwatch:DeleteAlarms'],
      [arn('cloudwatch', 'alarm:TargetTracking-endpoint/*')],
    ),
    statement(
      'AutoScalingServiceLinkedRole',
      ['iam:CreateServiceLinkedRole'],
      [`arn:${scope.partition}:iam::${scope.account}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/*`],
      { StringEquals: { 'iam:AWSServiceName': 'sagemaker.application-autoscaling.amazonaws.com' } },
    ),
    // GetMetricData has no resource-level scope.
    statement('ReadInvocations', ['cloudwatch:GetMetricData'], ['*']),
    statement('ReadConfiguredSecrets', ['secretsmanager:GetSecretValue'], secretResources(scope, arn)),
  ];
}

function secretResources(scope: IamScope, arn: (service: string, resource: string) => string): string[] {
  // Secrets Manager appends six random characters to a secret's ARN; a name prefix needs the wildcard.
  return [...scope.secretArns, arn('secretsmanager', `secret:${slug(scope.resourceNamePrefix)}/*`)];
}

function withCompanions(actions: readonly string[]): Set<string> {
  return new Set([...actions, ...actions.flatMap((action) => COMPANION_ACTIONS[action] ?? [])]);
}

function policyFor(scope: IamScope, actions: readonly string[]): PolicyDocument {
  const wanted = withCompanions(actions);
  const Statement = catalog(scope).flatMap((statement) => {
    const kept = statement.Action.filter((action) => wanted.has(action));
    return kept.length > 0 ? [{ ...statement, Action: kept }] : [];
  });
  return { Version: '2012-10-17', Statement };
}

/**
 * The execution role SageMaker's containers run as: read the job's inputs and write its outputs under
 * the prefix, read the model a serving container loads, log, publish metrics, pull images, and read the
 * judge's API key when one is a secret. Its trust policy: EXECUTION_ROLE_TRUST_POLICY.
 */
function executionRolePolicy(scope: IamScope): PolicyDocument {
  const bucket = `arn:${scope.partition}:s3:::${scope.bucket}`;
  const logs = `arn:${scope.partition}:logs:${scope.region}:${scope.account}:log-group:/aws/sagemaker/*`;
  const statements: Statement[] = [
    {
      Sid: 'ReadAndWriteUnderThePrefix',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
      Resource: [`${bucket}/${scope.prefix}*`],
    },
    {
      Sid: 'ListUnderThePrefix',
      Effect: 'Allow',
      Action: ['s3:ListBucket'],
      Resource: [bucket],
      Condition: { StringLike: { 's3:prefix': [`${scope.prefix}*`] } },
    },
    {
      Sid: 'WriteJobLogs',
      Effect: 'Allow',
      Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
      Resource: [logs, `${logs}:*`],
    },
    {
      Sid: 'PublishJobMetrics',
      Effect: 'Allow',
      Action: ['cloudwatch:PutMetricData'],
      Resource: ['*'],
      Condition: { StringLike: { 'cloudwatch:namespace': ['/aws/sagemaker/*', 'AWS/SageMaker'] } },
    },
    // The training, processing and serving images are AWS's (Deep Learning Containers, LMI/vLLM), in AWS's accounts.
    {
      Sid: 'PullContainerImages',
      Effect: 'Allow',
      Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
      Resource: [`arn:${scope.partition}:ecr:${scope.region}:*:repository/*`],
    },
    { Sid: 'LogInToEcr', Effect: 'Allow', Action: ['ecr:GetAuthorizationToken'], Resource: ['*'] },
  ];
  if (scope.secretArns.length > 0) {
    statements.push({ Sid: 'ReadJudgeKey', Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: [...scope.secretArns] });
  }
  return { Version: '2012-10-17', Statement: statements };
}

export const EXECUTION_ROLE_TRUST_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'sagemaker.amazonaws.com' }, Action: 'sts:AssumeRole' }],
} as const;

export function iamPolicy(role: IamRole, scope: IamScope): PolicyDocument {
  if (role === 'worker') return policyFor(scope, WORKER_ACTIONS);
  if (role === 'operator') return policyFor(scope, OPERATOR_ACTIONS);
  return executionRolePolicy(scope);
}

export function policyActions(policy: PolicyDocument): Set<string> {
  return new Set(policy.Statement.flatMap((statement) => statement.Action));
}
