import type { CliError } from './cli-errors';

/**
 * What the CLI writes: results on stdout (one JSON document with `--json`, lines for people otherwise),
 * progress, notices and errors on stderr, so a script can always parse stdout.
 */

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** `key  value` lines for people, aligned; nested values as compact JSON, empty ones left out. */
export function fieldLines(fields: Record<string, unknown>): string[] {
  const shown = Object.entries(fields).filter(([, value]) => value !== undefined && value !== null && value !== '');
  const width = Math.max(0, ...shown.map(([key]) => key.length));
  return shown.map(([key, value]) => `${key.padEnd(width)}  ${typeof value === 'string' ? value : JSON.stringify(value)}`);
}

export function printFields(fields: Record<string, unknown>): void {
  for (const line of fieldLines(fields)) console.log(line);
}

/** A result: the JSON document, or the lines a command wrote for people. */
export function printResult(result: unknown, asJson: boolean, lines: () => string[]): void {
  if (asJson) printJson(result);
  else for (const line of lines()) console.log(line);
}

/** An error: `{"error": {kind, message, ...}}` on stdout with --json, `llmtwin: <message>` on stderr otherwise. */
export function printError(error: CliError, asJson: boolean): void {
  if (asJson) printJson({ error: { kind: error.kind, message: error.message, ...error.details } });
  else console.error(`llmtwin: ${error.message}`);
}

/** A notice for people (what started, where to watch it): stderr, so stdout stays parseable. */
export function notice(line: string): void {
  console.error(line);
}
