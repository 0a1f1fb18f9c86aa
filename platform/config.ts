import { readFileSync } from 'node:fs';
import { CONFIG_FILE_ENV_VAR, ConfigError, resolveConfig, type LlmtwinConfig } from '../common/config';

/**
 * Loads the config from the optional JSON file named by LLMTWIN_CONFIG (or `configPath`) and from
 * environment variables, which win. A bad value throws ConfigError naming the field and the fix.
 */
export function loadConfig(options: { env?: NodeJS.ProcessEnv; configPath?: string } = {}): LlmtwinConfig {
  const env = options.env ?? process.env;
  const path = options.configPath ?? env[CONFIG_FILE_ENV_VAR];
  return resolveConfig(env, path ? readConfigFile(path) : {});
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
