import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { DescribeModelPackageCommandOutput } from '@aws-sdk/client-sagemaker';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { Command } from 'commander';
import { ApprovalDecisionSchema, approveUpdate, rejectUpdate, TwinNameSchema } from '../../common/evaluate/contract';
import { metricsFromProperties, modelPackageGroupName, VERSION_KEYS } from '../../common/evaluate/registry';
import { parseS3Uri } from '../../common/shared/naming';
import type { CliContext } from '../cli-context';
import { NotFoundError, UsageError } from '../cli-errors';
import { checkedInput } from '../cli-input';
import { fieldLines, notice, printResult } from '../cli-output';
import { metricLines } from './evaluate';
import type * as registryModule from '../../activities/evaluate/registry';

/**
 * `llmtwin models`: the twin's versions in the SageMaker model registry (a Model Package Group per
 * twin), their metrics and approval status, and the manual decision a waiting evaluation asks for.
 */

interface TwinOption {
  twin?: string;
  json?: boolean;
}

function registry(): typeof registryModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the AWS SDK loads only when a command runs
  return require('../../activities/evaluate/registry') as typeof registryModule;
}

function groupOf(context: CliContext, twin: string | undefined): string {
  const name = checkedInput(TwinNameSchema, twin ?? 'twin', '--twin');
  return modelPackageGroupName(context.config.resourceNamePrefix, name);
}

/** A version by number (in --twin's group) or by its ARN. */
export async function findVersion(context: CliContext, ref: string, twin: string | undefined): Promise<DescribeModelPackageCommandOutput> {
  const { describeVersion, listVersions } = registry();
  const sagemaker = context.aws().sagemaker;
  let arn = ref;
  if (!ref.startsWith('arn:')) {
    if (!/^\d+$/.test(ref))
      throw new UsageError(`version: ${JSON.stringify(ref)} is neither a version number (such as 3) nor a model package ARN`);
    const group = groupOf(context, twin);
    const versions = await listVersions(sagemaker, group);
    const found = versions.find((summary) => summary.ModelPackageVersion === Number(ref));
    if (!found?.ModelPackageArn)
      throw new NotFoundError(
        `twin ${twin ?? 'twin'} has no version ${ref} (group ${group}); list them with: llmtwin models list --twin ${twin ?? 'twin'}`,
      );
    arn = found.ModelPackageArn;
  }
  const pkg = await describeVersion(sagemaker, arn);
  if (!pkg) throw new NotFoundError(`no model package ${arn} in the registry`);
  return pkg;
}

function summaryOf(pkg: DescribeModelPackageCommandOutput) {
  const properties = pkg.CustomerMetadataProperties ?? {};
  return {
    group: pkg.ModelPackageGroupName,
    version: pkg.ModelPackageVersion,
    status: pkg.ModelApprovalStatus || 'PendingManualApproval',
    arn: pkg.ModelPackageArn,
    created: pkg.CreationTime?.toISOString(),
    approval: pkg.ApprovalDescription,
    twinMetrics: metricsFromProperties(properties, 'twin'),
    baseMetrics: metricsFromProperties(properties, 'base'),
    baseModel: properties[VERSION_KEYS.baseModel],
    trainingJob: properties[VERSION_KEYS.trainingJob],
    evaluationJob: properties[VERSION_KEYS.evaluationJob],
    dataset: properties[VERSION_KEYS.datasetHash],
    report: properties[VERSION_KEYS.report],
    evaluation: properties[VERSION_KEYS.evaluation],
    workflowId: properties[VERSION_KEYS.workflowId],
    model: pkg.InferenceSpecification?.Containers?.[0]?.ModelDataUrl,
  };
}

export function registerModels(command: Command, context: CliContext): void {
  command
    .command('list')
    .description("the twin's versions, newest first: status and key metrics")
    .option('--twin <name>', "the twin's name (default: twin)")
    .option('--json', 'print the versions as JSON')
    .action(async (options: TwinOption) => {
      const { describeVersion, listVersions } = registry();
      const sagemaker = context.aws().sagemaker;
      const group = groupOf(context, options.twin);
      const summaries = await listVersions(sagemaker, group);
      const versions = await Promise.all(
        summaries.map(async (summary) => {
          const pkg = await describeVersion(sagemaker, summary.ModelPackageArn as string);
          return summaryOf(pkg ?? ({ ...summary, $metadata: {} } as DescribeModelPackageCommandOutput));
        }),
      );
      printResult({ group, versions }, Boolean(options.json), () =>
        versions.length === 0
          ? [
              `no versions of twin ${options.twin ?? 'twin'} yet (group ${group}): evaluate a model with llmtwin evaluate --training-job <name>`,
            ]
          : [
              `${'version'.padEnd(8)}${'status'.padEnd(23)}${'perplexity'.padEnd(12)}${'rouge_l'.padEnd(10)}${'style'.padEnd(8)}created`,
              ...versions.map(
                (v) =>
                  `${String(v.version).padEnd(8)}${String(v.status).padEnd(23)}${fmt(v.twinMetrics.perplexity).padEnd(12)}${fmt(v.twinMetrics.rouge_l).padEnd(10)}${fmt(v.twinMetrics.style_cosine_delta).padEnd(8)}${v.created ?? ''}`,
              ),
            ],
      );
    });

  command
    .command('show <version>')
    .description('one version (a number in --twin, or an ARN): metrics twin vs base, status, where the report is')
    .option('--twin <name>', "the twin's name (default: twin)")
    .option('--open', 'download report.html and open it in the browser')
    .option('--json', 'print the version as JSON')
    .action(async (ref: string, options: TwinOption & { open?: boolean }) => {
      const version = summaryOf(await findVersion(context, ref, options.twin));
      printResult(version, Boolean(options.json), () => {
        const { twinMetrics, baseMetrics, ...fields } = version;
        return [...fieldLines(fields), 'metrics (held-out samples, twin vs base):', ...metricLines(twinMetrics, baseMetrics)];
      });
      if (options.open && version.report) await openReport(context, version.report, `${version.group}-v${version.version}`);
    });

  for (const action of ['approve', 'reject'] as const) {
    command
      .command(`${action} <version>`)
      .description(`${action} a version its evaluation is waiting on (sends the workflow's \`${action}\` Update; the decision is recorded)`)
      .requiredOption('--reason <text>', 'why: recorded on the version and in the workflow')
      .option('--by <name>', 'who decides (default: your user name)')
      .option('--twin <name>', "the twin's name (default: twin)")
      .option('--json', 'print the outcome as JSON')
      .action(async (ref: string, options: TwinOption & { reason: string; by?: string }) => {
        const decision = checkedInput(
          ApprovalDecisionSchema,
          { by: options.by ?? userInfo().username, reason: options.reason },
          'decision',
          {
            flags: { by: '--by', reason: '--reason' },
          },
        );
        const version = summaryOf(await findVersion(context, ref, options.twin));
        if (!version.workflowId) throw new UsageError(`version ${version.version} records no evaluation run to send the decision to`);
        const handle = (await context.temporal()).workflow.getHandle(version.workflowId);
        let status;
        try {
          status = await handle.executeUpdate(action === 'approve' ? approveUpdate : rejectUpdate, { args: [decision] });
        } catch (error) {
          if (error instanceof WorkflowUpdateFailedError)
            throw new UsageError(`${version.workflowId} refused the decision: ${error.cause?.message ?? error.message}`);
          if ((error as Error).name === 'WorkflowNotFoundError')
            throw new NotFoundError(
              `the evaluation run ${version.workflowId} no longer runs: version ${version.version} is ${version.status}`,
            );
          throw error;
        }
        notice(`${action === 'approve' ? 'approved' : 'rejected'}: ${version.workflowId} records the decision and updates the registry`);
        printResult({ workflowId: version.workflowId, version: version.version, decision: status.decision }, Boolean(options.json), () => [
          `version ${version.version}: ${action === 'approve' ? 'approved' : 'rejected'} by ${decision.by}: ${decision.reason}`,
        ]);
      });
  }
}

function fmt(value: number | null | undefined): string {
  return typeof value === 'number' ? String(Number(value.toPrecision(4))) : '-';
}

async function openReport(context: CliContext, uri: string, name: string): Promise<void> {
  const { bucket, key } = parseS3Uri(uri);
  const object = await context.aws().s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const path = join(tmpdir(), `llmtwin-report-${name}.html`);
  writeFileSync(path, (await object.Body?.transformToString('utf-8')) ?? '');
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  await new Promise<void>((resolve) => {
    execFile(opener, [path], (error) => {
      notice(error ? `report saved to ${path} (no browser opener here: open it yourself)` : `opened ${path}`);
      resolve();
    });
  });
}
