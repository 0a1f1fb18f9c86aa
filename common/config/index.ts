/** The configuration: the composed schema (schema.ts), its sections (sections.ts) and how it is resolved (resolve.ts). */
export { ConfigSchema, ENV_VARS, type ConfigFieldPath, type LlmtwinConfig, type LlmtwinConfigInput } from './schema';
export type { EnvVarSpec } from './sections';
export {
  CONFIG_FILE_ENV_VAR,
  ConfigError,
  effectiveAwsEndpoint,
  effectiveComputeBackend,
  effectiveExecutionRoleArn,
  LOCAL_ACCOUNT_ID,
  LOCAL_MOTO_PORT,
  maskSecrets,
  SECRET_CONFIG_FIELDS,
  OTHER_LLMTWIN_ENV_VARS,
  resolveConfig,
  resolveConfigWithWarnings,
  type ResolvedConfig,
} from './resolve';
