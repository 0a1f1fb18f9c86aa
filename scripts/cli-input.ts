import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { describeIssues } from '../common/shared/validation';

/**
 * The one way the CLI checks what a person typed before anything starts: the same zod schema the
 * workflow validates with, so a typo fails here, naming the field, and nothing is created. The input
 * itself is returned as given (the workflow applies the defaults, so its history shows what was asked);
 * the cast is safe because the schema has just accepted it.
 */
export function checkedInput<Schema extends z.ZodType>(schema: Schema, raw: unknown, what: string, hint?: string): z.input<Schema> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid ${what}: ${describeIssues(parsed.error, schema).join('; ')}${hint ? ` (${hint})` : ''}`);
  return raw as z.input<Schema>;
}

/** A JSON object from an `--input` file, as the workflow would take it from the Web UI. */
export function readInputFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read --input ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`--input ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`--input ${path} must hold a JSON object, like examples/*.json`);
  return value as Record<string, unknown>;
}
