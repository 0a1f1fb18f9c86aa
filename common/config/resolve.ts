import { nearestName } from '../shared/nearest';
import { issuesOf } from '../shared/validation';
import { ConfigSchema, ENV_VARS, type ConfigFieldPath, type LlmtwinConfig } from './schema';
import type { EnvVarKind } from './sections';

/** Port of the local moto server started by the dev stack. */
export const LOCAL_MOTO_PORT = 5055;
/** Account id moto answers with; used for the default (fake) execution role. */
export const LOCAL_ACCOUNT_ID = '123456789012';

/** Name of the variable pointing at an optional JSON config file (environment variables win over it). */
export const CONFIG_FILE_ENV_VAR = 'LLMTWIN_CONFIG';

/** `LLMTWIN_*` variables that are not config fields but are read elsewhere (so never "unknown"). */
export const OTHER_LLMTWIN_ENV_VARS: readonly string[] = [
  CONFIG_FILE_ENV_VAR,
  /** The Temporal Web UI's base URL for the links the CLI prints. */
  'LLMTWIN_UI_URL',
  /** Test tooling: re-record the replay test's workflow histories. */
  'LLMTWIN_RECORD_HISTORIES',
];

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    readonly issues: readonly string[],
  ) {
    super(message);
  }
}

export interface ResolvedConfig {
  config: LlmtwinConfig;
  /** Things that did not stop start-up but are probably mistakes, such as an unknown LLMTWIN_* variable. */
  warnings: string[];
}

/**
 * Builds the config from a parsed JSON file (or nothing) and an environment; environment variables
 * override file values. Throws ConfigError listing each bad field, where it came from and the fix; an
 * unknown key in the file is such an error (naming the nearest valid key), an unknown `LLMTWIN_*`
 * variable a warning (naming the nearest valid variable).
 */
export function resolveConfigWithWarnings(env: Readonly<Record<string, string | undefined>>, fileValue: unknown = {}): ResolvedConfig {
  if (fileValue === null || typeof fileValue !== 'object' || Array.isArray(fileValue)) {
    throw new ConfigError('config file must hold a JSON object', ['<file>: expected an object like {"s3": {"bucket": "..."}}']);
  }
  const merged = structuredClone(fileValue) as Record<string, unknown>;
  const origin = new Map<string, string>();
  const conversionIssues: string[] = [];
  for (const variable of ENV_VARS) {
    const raw = env[variable.name];
    if (raw === undefined || raw === '') continue;
    const converted = convertEnvValue(raw, variable.kind);
    if (converted === undefined) {
      conversionIssues.push(`${variable.name}=${JSON.stringify(raw)}: expected a ${variable.kind}`);
      continue;
    }
    setPath(merged, variable.path.split('.'), converted);
    origin.set(variable.path, `env ${variable.name}`);
  }
  if (conversionIssues.length > 0) {
    throw new ConfigError(`invalid configuration:\n  ${conversionIssues.join('\n  ')}`, conversionIssues);
  }
  const result = ConfigSchema.safeParse(merged);
  if (!result.success) {
    const issues = issuesOf(result.error, ConfigSchema).map(({ field, message }) => {
      const source = origin.get(field) ?? envNameFor(field) ?? 'config file';
      return `${field} (${source}): ${message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${issues.join('\n  ')}`, issues);
  }
  return { config: result.data, warnings: unknownEnvVarWarnings(env, payloadKeyVariables(result.data)) };
}

/** resolveConfigWithWarnings without the warnings (tests, benches and tools that build a config in code). */
export function resolveConfig(env: Readonly<Record<string, string | undefined>>, fileValue: unknown = {}): LlmtwinConfig {
  return resolveConfigWithWarnings(env, fileValue).config;
}

/** The variables the config names as holding payload keys: known, though no table lists them. */
function payloadKeyVariables(config: LlmtwinConfig): string[] {
  const encryption = config.temporal.encryption;
  return encryption ? [encryption.keyEnv, ...encryption.previousKeys.map((key) => key.keyEnv)] : [];
}

function unknownEnvVarWarnings(env: Readonly<Record<string, string | undefined>>, alsoKnown: readonly string[]): string[] {
  const known = [...ENV_VARS.map((variable) => variable.name), ...OTHER_LLMTWIN_ENV_VARS, ...alsoKnown];
  return Object.keys(env)
    .filter((name) => name.startsWith('LLMTWIN_') && !known.includes(name))
    .sort()
    .map((name) => {
      const nearest = nearestName(name, known);
      return `unknown environment variable ${name} is ignored${nearest ? `; did you mean ${nearest}?` : ''} (README lists every variable)`;
    });
}

function envNameFor(field: string): string | undefined {
  const match = ENV_VARS.find((variable) => variable.path === field);
  return match ? `set ${match.name} or "${field}" in the config file` : undefined;
}

function convertEnvValue(raw: string, kind: EnvVarKind): unknown {
  switch (kind) {
    case 'string':
      return raw;
    case 'number': {
      const value = Number(raw);
      return Number.isFinite(value) ? value : undefined;
    }
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      return undefined;
    case 'list':
      return raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0);
  }
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

/** The AWS endpoint the clients should use, or undefined for the real AWS endpoints. */
export function effectiveAwsEndpoint(config: LlmtwinConfig): string | undefined {
  if (config.aws.endpointUrl) return config.aws.endpointUrl;
  return config.aws.target === 'local' ? `http://127.0.0.1:${LOCAL_MOTO_PORT}` : undefined;
}

/** The SageMaker execution role: the configured one, or a placeholder moto accepts in local mode. */
export function effectiveExecutionRoleArn(config: LlmtwinConfig): string {
  return config.sagemaker.executionRoleArn ?? `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/llmtwin-local-sagemaker`;
}

/** Where jobs run: the configured backend, else local compute on the embedded stack and SageMaker against AWS. */
export function effectiveComputeBackend(config: LlmtwinConfig): 'sagemaker' | 'local' {
  return config.compute.backend ?? (config.aws.target === 'local' ? 'local' : 'sagemaker');
}

/** Config fields that hold secrets: never printed or logged, only whether they are set. */
export const SECRET_CONFIG_FIELDS: readonly ConfigFieldPath[] = ['temporal.apiKey', 'generator.apiKey'];

/** A copy of the config fit to print or log: every secret replaced by "<set>" (or left out when unset). */
export function maskSecrets(config: LlmtwinConfig): LlmtwinConfig {
  const masked = structuredClone(config) as unknown as Record<string, Record<string, unknown>>;
  for (const field of SECRET_CONFIG_FIELDS) {
    const [section, key] = field.split('.') as [string, string];
    const holder = masked[section];
    if (holder && holder[key] !== undefined) holder[key] = '<set>';
  }
  return masked as unknown as LlmtwinConfig;
}
