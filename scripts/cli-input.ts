import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { issuesOf, type Issue } from '../common/shared/validation';
import { UsageError } from './cli-errors';

/**
 * The one way the CLI checks what a person typed before anything starts: the same strict zod schema
 * the workflow validates with, so a typo fails here, naming the field and the flag that sets it, and
 * nothing is created. The input itself is returned as given (the workflow applies the defaults, so its
 * history shows what was asked); the cast is safe because the schema has just accepted it.
 */
export interface InputCheck {
  /** The flag that sets each input field, so a message names what the person typed: `dedup.threshold (--dedup-threshold)`. */
  flags?: Readonly<Record<string, string>>;
}

export function checkedInput<Schema extends z.ZodType>(
  schema: Schema,
  raw: unknown,
  what: string,
  check: InputCheck = {},
): z.input<Schema> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return raw as z.input<Schema>;
  const issues = issuesOf(parsed.error, schema).map((issue) => withFlag(issue, check.flags ?? {}));
  throw new UsageError(`invalid ${what}: ${issues.join('; ')}`, { issues });
}

function withFlag({ field, message }: Issue, flags: Readonly<Record<string, string>>): string {
  // The most specific flag for the field or the object it is in (source.path -> --source).
  const owner = Object.keys(flags)
    .filter((path) => field === path || field.startsWith(`${path}.`))
    .sort((a, b) => b.length - a.length)[0];
  return `${field}${owner ? ` (${flags[owner]})` : ''}: ${message}`;
}

/** A JSON object from an `--input` file, as the workflow would take it from the Web UI. */
export function readInputFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --input ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--input ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`--input ${path} must hold a JSON object, like the files in examples/`);
  }
  return value as Record<string, unknown>;
}

/** A number flag: a number, or a usage error naming the flag (Number('') is 0 and Number('x') NaN, neither what was meant). */
export function numberFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number)) throw new UsageError(`${flag}: expected a number, got ${JSON.stringify(value)}`);
  return number;
}
