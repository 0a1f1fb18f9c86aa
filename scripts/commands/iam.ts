import { InvalidArgumentError, type Command } from 'commander';
import type { LlmtwinConfig } from '../../common/config';
import { EXECUTION_ROLE_TRUST_POLICY, iamPolicy, type IamRole, type IamScope } from '../../common/shared/iam-policies';
import { SecretArnSchema } from '../../common/shared/schemas';
import type { CliContext } from '../cli-context';
import { UsageError } from '../cli-errors';
import { printJson } from '../cli-output';

const ROLES: readonly IamRole[] = ['worker', 'operator', 'execution-role'];

interface IamOptions {
  account?: string;
  partition: string;
  secretArn: string[];
  trust?: boolean;
}

/**
 * `llmtwin iam <worker|operator|execution-role>`: the least-privilege policy document for that role,
 * scoped to this config's region, bucket, prefix and resource prefix (common/shared/iam-policies.ts).
 */
export function registerIam(command: Command, context: CliContext): void {
  command
    .argument('<role>', `whose policy: ${ROLES.join(', ')}`, (value: string) => {
      if (!ROLES.includes(value as IamRole)) throw new InvalidArgumentError(`choose one of ${ROLES.join(', ')}`);
      return value as IamRole;
    })
    .option('--account <id>', 'the 12-digit AWS account id (default: the one in sagemaker.executionRoleArn)')
    .option('--partition <name>', 'the AWS partition (aws, aws-cn, aws-us-gov)', 'aws')
    .option('--secret-arn <arn>', 'a further secret the role reads (a judge API key); repeatable', collect, [])
    .option('--trust', "execution-role only: print the role's trust policy instead")
    .option('--json', 'the same JSON (it is always JSON)')
    .addHelpText(
      'after',
      '\nworker: what `npm run worker` calls; operator: the CLI and the typed client; execution-role: what SageMaker jobs and endpoints run as.\n' +
        'Example: llmtwin iam worker --account 123456789012 > worker-policy.json',
    )
    .action((role: IamRole, options: IamOptions) => {
      if (options.trust) {
        if (role !== 'execution-role') throw new UsageError('--trust is for the execution role: llmtwin iam execution-role --trust');
        printJson(EXECUTION_ROLE_TRUST_POLICY);
        return;
      }
      printJson(iamPolicy(role, iamScope(context.config, options)));
    });
}

function collect(value: string, previous: string[]): string[] {
  const parsed = SecretArnSchema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(`${value} ${parsed.error.issues[0]?.message ?? 'is not a secret ARN'}`);
  return [...previous, value];
}

function iamScope(config: LlmtwinConfig, options: IamOptions): IamScope {
  const roleArn = config.sagemaker.executionRoleArn;
  const account = options.account ?? /^arn:[^:]+:iam::(\d{12}):/.exec(roleArn ?? '')?.[1];
  if (!account || !/^\d{12}$/.test(account)) {
    throw new UsageError(
      options.account
        ? `--account ${options.account} is not a 12-digit AWS account id`
        : 'the policy names your account: pass --account <12-digit id>, or set sagemaker.executionRoleArn (LLMTWIN_SAGEMAKER_ROLE_ARN)',
    );
  }
  return {
    partition: options.partition,
    region: config.aws.region,
    account,
    bucket: config.s3.bucket,
    prefix: config.s3.prefix,
    resourceNamePrefix: config.resourceNamePrefix,
    // Without a configured role the policy names the one the README's setup creates.
    executionRoleArn: roleArn ?? `arn:${options.partition}:iam::${account}:role/${config.resourceNamePrefix}-sagemaker-execution`,
    sourcePrefixes: config.sources.s3Allowed,
    secretArns: [...(config.training.hfTokenSecretArn ? [config.training.hfTokenSecretArn] : []), ...options.secretArn],
  };
}
