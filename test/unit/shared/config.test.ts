import { costUsd } from '../../../common/shared/pricing';
import {
  ConfigError,
  ConfigSchema,
  ENV_VARS,
  effectiveAwsEndpoint,
  effectiveExecutionRoleArn,
  resolveConfig,
  resolveConfigWithWarnings,
} from '../../../common/config';
import { knownKeysAt } from '../../../common/shared/validation';

describe('resolveConfig', () => {
  it('defaults point at the local stack', () => {
    const config = resolveConfig({});
    expect(config.temporal.address).toBe('127.0.0.1:7233');
    expect(config.temporal.taskQueue).toBe('llmtwin');
    expect(config.aws.target).toBe('local');
    expect(effectiveAwsEndpoint(config)).toBe('http://127.0.0.1:5055');
    expect(effectiveExecutionRoleArn(config)).toBe('arn:aws:iam::123456789012:role/llmtwin-local-sagemaker');
    expect(config.idle).toEqual({ checkInterval: '5m', window: '60m' });
  });

  it('lets environment variables override the file', () => {
    const config = resolveConfig(
      { LLMTWIN_S3_BUCKET: 'from-env', LLMTWIN_METRICS_PORT: '0', LLMTWIN_TRAINING_INSTANCE_FALLBACKS: 'ml.g5.4xlarge, ml.p4d.24xlarge' },
      { s3: { bucket: 'from-file', prefix: 'twins/' }, temporal: { namespace: 'prod' } },
    );
    expect(config.s3).toEqual({ bucket: 'from-env', prefix: 'twins/' });
    expect(config.temporal.namespace).toBe('prod');
    expect(config.worker.metricsPort).toBe(0);
    expect(config.sagemaker.trainingInstanceFallbacks).toEqual(['ml.g5.4xlarge', 'ml.p4d.24xlarge']);
  });

  it('accepts a zero idle grace, as setPolicy and the CLI do, and refuses what is not a duration', () => {
    expect(resolveConfig({ LLMTWIN_IDLE_GRACE: '0s' }).idle.grace).toBe('0s');
    expect(() => resolveConfig({ LLMTWIN_IDLE_GRACE: 'soon' })).toThrow(/idle\.grace/);
  });

  it('uses real AWS endpoints when the target is aws and no override is set', () => {
    const config = resolveConfig({ LLMTWIN_AWS_TARGET: 'aws', LLMTWIN_SAGEMAKER_ROLE_ARN: 'arn:aws:iam::111122223333:role/Twin' });
    expect(effectiveAwsEndpoint(config)).toBeUndefined();
  });

  it('names the field, where it came from and the fix', () => {
    const attempt = () => resolveConfig({ LLMTWIN_S3_BUCKET: 'Bad_Bucket', LLMTWIN_IDLE_WINDOW: 'forever' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const { issues } = error as ConfigError;
      expect(issues).toEqual([
        expect.stringMatching(/^s3\.bucket \(env LLMTWIN_S3_BUCKET\): must be a valid S3 bucket name/),
        expect.stringMatching(/^idle\.window \(env LLMTWIN_IDLE_WINDOW\): must be a positive duration/),
      ]);
    }
  });

  it('requires an execution role for real AWS', () => {
    expect(() => resolveConfig({ LLMTWIN_AWS_TARGET: 'aws' })).toThrow(/sagemaker\.executionRoleArn .*LLMTWIN_SAGEMAKER_ROLE_ARN/);
  });

  it('rejects numbers that are not numbers before validation', () => {
    expect(() => resolveConfig({ LLMTWIN_METRICS_PORT: 'ninety' })).toThrow(/LLMTWIN_METRICS_PORT="ninety": expected a number/);
  });

  it('rejects a config file that is not an object', () => {
    expect(() => resolveConfig({}, ['nope'])).toThrow(/config file must hold a JSON object/);
  });
});

describe('strict config', () => {
  const issuesOf = (attempt: () => unknown): readonly string[] => {
    try {
      attempt();
    } catch (error) {
      if (error instanceof ConfigError) return error.issues;
      throw error;
    }
    throw new Error('expected a ConfigError');
  };

  it('stops at an unknown key in the file, naming it, where it was and the nearest valid key', () => {
    expect(issuesOf(() => resolveConfig({}, { idle: { windw: '2h' } }))).toEqual([
      'idle.windw (config file): unknown key; did you mean "window"? (valid in idle: checkInterval, window, grace, asyncMetric)',
    ]);
    expect(issuesOf(() => resolveConfig({}, { idel: { window: '2h' } }))).toEqual([
      expect.stringMatching(/^idel \(config file\): unknown key; did you mean "idle"\?/),
    ]);
    expect(issuesOf(() => resolveConfig({}, { s3: { bucket: 'ok-bucket', region: 'eu-west-1' } }))).toEqual([
      's3.region (config file): unknown key (valid in s3: bucket, prefix)',
    ]);
  });

  it("warns about an unknown LLMTWIN_* variable, naming the nearest valid one, and ignores other programs' variables", () => {
    const { config, warnings } = resolveConfigWithWarnings({
      LLMTWIN_IDLE_WINDW: '2h',
      LLMTWIN_UI_URL: 'http://ui',
      HOME: '/root',
      AWS_PROFILE: 'x',
    });
    expect(config.idle.window).toBe('60m');
    expect(warnings).toEqual([
      'unknown environment variable LLMTWIN_IDLE_WINDW is ignored; did you mean LLMTWIN_IDLE_WINDOW? (README lists every variable)',
    ]);
  });

  it('every environment variable names a real config field', () => {
    const missing = ENV_VARS.filter((variable) => {
      const path = variable.path.split('.');
      return !knownKeysAt(ConfigSchema, path.slice(0, -1)).includes(path[path.length - 1]!);
    });
    expect(missing).toEqual([]);
    expect(new Set(ENV_VARS.map((variable) => variable.name)).size).toBe(ENV_VARS.length);
    expect(ENV_VARS.length).toBeGreaterThan(40);
  });
});

describe('pricing', () => {
  it('overrides list prices from the config file and never prices unknown types as free', () => {
    const config = resolveConfig({}, { pricing: { usdPerHour: { 'ml.g5.xlarge': 1 } } });
    expect(costUsd('ml.g5.xlarge', 7200, 1, config.pricing)).toBe(2);
    expect(costUsd('ml.g5.2xlarge', 3600, 2, config.pricing)).toBe(3.03);
    expect(costUsd('ml.unknown.type', 3600, 1, config.pricing)).toBeUndefined();
  });
});
