import { readFileSync } from 'node:fs';
import { CONFIG_FILE_ENV_VAR, ConfigError, resolveConfigWithWarnings, type LlmtwinConfig } from '../common/config';

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  configPath?: string;
  /** Where warnings go (an unknown LLMTWIN_* variable); stderr by default, so stdout stays clean. */
  warn?: (message: string) => void;
}

/**
 * Loads the config from the optional JSON file named by LLMTWIN_CONFIG (or `configPath`) and from
 * environment variables, which win. A bad value, or an unknown key in the file, throws ConfigError
 * naming the field and the fix; an unknown LLMTWIN_* variable is reported as a warning.
 */
export function loadConfig(options: LoadConfigOptions = {}): LlmtwinConfig {
  const env = options.env ?? process.env;
  const path = options.configPath ?? env[CONFIG_FILE_ENV_VAR];
  const { config, warnings } = resolveConfigWithWarnings(env, path ? readConfigFile(path) : {});
  const warn = options.warn ?? ((message: string) => console.warn(`llmtwin: warning: ${message}`));
  for (const warning of warnings) warn(warning);
  return config;
}

function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError(`cannot read config file ${path} (${reason}); fix ${CONFIG_FILE_ENV_VAR} or create the file`, [path]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`, [path]);
  }
}
