import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { iamActionsFor } from '../../../common/shared/iam-actions';
import {
  COMPANION_ACTIONS,
  iamPolicy,
  OPERATOR_ACTIONS,
  policyActions,
  WORKER_ACTIONS,
  type IamRole,
  type IamScope,
  type PolicyDocument,
} from '../../../common/shared/iam-policies';
import { resolveConfig } from '../../../common/config';
import { PROJECT_ROOT } from '../../../platform/paths';
import { runIdleMonitorDemo } from '../../../scripts/demos/idle';
import { commandsReachableFrom } from '../../helpers/aws-commands';

const scope: IamScope = {
  partition: 'aws',
  region: 'eu-west-1',
  account: '123456789012',
  bucket: 'acme-ml',
  prefix: 'twins/',
  resourceNamePrefix: 'llmtwin',
  executionRoleArn: 'arn:aws:iam::123456789012:role/llmtwin-sagemaker-execution',
  sourcePrefixes: ['s3://acme-writing/wren/'],
  secretArns: ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:llmtwin/hf-token-AbCdEf'],
};

// The CLI's demos refuse any target but the embedded stack (the test below checks), so on AWS they send nothing.
const EMBEDDED_ONLY = ['scripts/demos/'];

function sentActions(entryFiles: string[]): Set<string> {
  return new Set(commandsReachableFrom(entryFiles, EMBEDDED_ONLY).flatMap((command) => iamActionsFor(command.sdkPackage, command.name)));
}

const sorted = (values: Iterable<string>) => [...values].sort();

describe.each([
  { role: 'worker' as const, entries: ['workers/main.ts'], declared: WORKER_ACTIONS },
  { role: 'operator' as const, entries: ['scripts/cli.ts', 'client/index.ts'], declared: OPERATOR_ACTIONS },
])('the $role policy', ({ role, entries, declared }) => {
  const sent = sentActions(entries);
  const policy = iamPolicy(role, scope);

  it("declares exactly the actions its code can send (every command imported from its entry point's files)", () => {
    // A new command in the code fails here until the policy grants it; a dropped one until the grant goes.
    expect(sent.size).toBeGreaterThan(role === 'worker' ? 40 : 10);
    expect(sorted(declared)).toEqual(sorted(sent));
  });

  it('grants every sent action, and besides them only the companions AWS checks on their behalf', () => {
    const granted = policyActions(policy);
    expect(sorted(sent).filter((action) => !granted.has(action))).toEqual([]);
    const companions = new Set([...sent].flatMap((action) => COMPANION_ACTIONS[action] ?? []));
    expect(sorted(granted).filter((action) => !sent.has(action) && !companions.has(action))).toEqual([]);
  });
});

it('the demos the CLI reaches (left out above) refuse any target but the embedded stack, before any call', async () => {
  const demoSenders = new Set(
    commandsReachableFrom(['scripts/cli.ts']).flatMap((command) => (command.file.startsWith('scripts/demos/') ? [command.file] : [])),
  );
  expect([...demoSenders]).toEqual(['scripts/demos/demo-endpoint.ts']); // reached through the idle demo only
  const sent: unknown[] = [];
  const config = resolveConfig({}, { aws: { target: 'aws' }, sagemaker: { executionRoleArn: scope.executionRoleArn } });
  await expect(
    runIdleMonitorDemo({
      client: {} as never,
      config,
      sagemaker: { send: (command: unknown) => Promise.resolve(sent.push(command)) } as never,
      taskQueue: 'unused',
      log: () => undefined,
    }),
  ).rejects.toThrow('runs only against the local stack');
  expect(sent).toEqual([]);
});

describe('scoping', () => {
  const statements = (role: IamRole) => iamPolicy(role, scope).Statement;
  const grants = (role: IamRole, action: string) => statements(role).filter((statement) => statement.Action.includes(action));

  it('writes to S3 only under the configured bucket and prefix; reads elsewhere only the allowed source prefixes', () => {
    for (const role of ['worker', 'execution-role'] as const) {
      for (const statement of grants(role, 's3:PutObject')) expect(statement.Resource).toEqual(['arn:aws:s3:::acme-ml/twins/*']);
    }
    const objectReads = grants('worker', 's3:GetObject').flatMap((statement) => statement.Resource);
    expect(sorted(objectReads)).toEqual(['arn:aws:s3:::acme-ml/*', 'arn:aws:s3:::acme-writing/wren/*']);
    const otherListing = grants('worker', 's3:ListBucket').find((statement) => statement.Resource[0] === 'arn:aws:s3:::acme-writing');
    expect(otherListing?.Condition).toEqual({ StringLike: { 's3:prefix': ['wren/*'] } });
  });

  it('creates, stops, updates and deletes SageMaker resources only by the prefix or the llmtwin:managed tag', () => {
    const changing = statements('worker').filter((statement) =>
      statement.Action.some((action) => /^sagemaker:(Create|Stop|Update|Delete|AddTags)/.test(action)),
    );
    expect(changing.length).toBeGreaterThan(4);
    for (const statement of changing) {
      const tagged = JSON.stringify(statement.Condition ?? {}).includes('llmtwin:managed');
      const named = statement.Resource.every((resource) => resource.includes(':training-job/llmtwin-') || /\/llmtwin-\*$/.test(resource));
      // The one documented exception: a monitor deletes the endpoint it watches, whoever made it.
      if (statement.Sid !== 'DeleteWatchedEndpoints')
        expect({ sid: statement.Sid, scoped: tagged || named }).toEqual({ sid: statement.Sid, scoped: true });
    }
  });

  it('uses "*" only where the service has no resource-level scope', () => {
    const starred = statements('worker').filter((statement) => statement.Resource.includes('*'));
    expect(sorted(starred.map((statement) => statement.Sid))).toEqual(['ListSageMaker', 'ReadInvocations', 'ScaleEndpoints']);
  });

  it('passes only the execution role, and only to SageMaker', () => {
    expect(grants('worker', 'iam:PassRole')).toEqual([
      expect.objectContaining({
        Resource: [scope.executionRoleArn],
        Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
    ]);
    expect(grants('operator', 'iam:PassRole')).toEqual([]);
  });
});

describe('the documents', () => {
  // moto's own IAM policy grammar check (what CreatePolicy runs), from the dev stack's .venv.
  function validate(policy: PolicyDocument): string {
    const script =
      'import sys; from moto.iam.policy_validation import IAMPolicyDocumentValidator as V; V(sys.stdin.read()).validate(); print("valid")';
    const run = spawnSync(join(PROJECT_ROOT, '.venv/bin/python'), ['-c', script], { input: JSON.stringify(policy), encoding: 'utf8' });
    return run.status === 0 ? run.stdout.trim() : run.stderr.trim().split('\n').at(-1)!;
  }

  it.each(['worker', 'operator', 'execution-role'] as const)(
    'the %s policy is valid IAM and fits a managed policy (6,144 characters)',
    (role) => {
      const policy = iamPolicy(role, scope);
      expect(validate(policy)).toBe('valid');
      expect(JSON.stringify(policy).length).toBeLessThan(6_144);
    },
  );

  it('the validator refuses a broken document (so "valid" above means something)', () => {
    expect(
      validate({ Version: '2012-10-17', Statement: [{ Sid: 'x', Effect: 'Allow', Action: ['s3GetObject'], Resource: ['*'] }] }),
    ).toMatch(/MalformedPolicyDocument/);
  });

  it('`llmtwin iam` prints them from the config, and names what is missing', () => {
    const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      spawnSync(join(PROJECT_ROOT, 'node_modules/.bin/tsx'), ['scripts/cli.ts', 'iam', ...args], {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
        env: { ...process.env, LLMTWIN_CONFIG: '', LLMTWIN_S3_BUCKET: 'acme-ml', LLMTWIN_S3_PREFIX: 'twins/', ...env },
      });
    const printed = cli(['worker'], { LLMTWIN_SAGEMAKER_ROLE_ARN: scope.executionRoleArn, AWS_REGION: 'eu-west-1' });
    expect(printed.status).toBe(0);
    const policy: PolicyDocument = JSON.parse(printed.stdout) as PolicyDocument;
    expect(policy.Statement.find((statement) => statement.Sid === 'WriteUnderThePrefix')?.Resource).toEqual([
      'arn:aws:s3:::acme-ml/twins/*',
    ]);
    expect(JSON.stringify(policy)).toContain('arn:aws:sagemaker:eu-west-1:123456789012:training-job/llmtwin-*');
    const missing = cli(['worker'], { LLMTWIN_SAGEMAKER_ROLE_ARN: '' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('pass --account <12-digit id>');
    expect(cli(['admin', '--account', '123456789012']).stderr).toContain('choose one of worker, operator, execution-role');
    const trust = execFileSync(
      join(PROJECT_ROOT, 'node_modules/.bin/tsx'),
      ['scripts/cli.ts', 'iam', 'execution-role', '--trust', '--account', '123456789012'],
      {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
      },
    );
    expect(JSON.parse(trust) as unknown).toMatchObject({
      Statement: [{ Principal: { Service: 'sagemaker.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
  });
});
