import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { ERROR_TYPES } from './errors';
import { nearestName } from './nearest';

/**
 * One line per problem: `field.path: message`. An unknown key (strict schemas refuse them rather than
 * drop them silently) is named with where it was, the nearest valid key and the valid ones, when the
 * schema is given: `chunk.maxToken: unknown key; did you mean "maxTokens"? (chunk takes maxTokens, ...)`.
 */
export function describeIssues(error: z.ZodError, schema?: z.ZodType): string[] {
  return error.issues.flatMap((issue) => {
    const where = issue.path.map(String);
    if (issue.code !== 'unrecognized_keys') return [`${where.length > 0 ? where.join('.') : '(input)'}: ${issue.message}`];
    const known = schema ? knownKeysAt(schema, where) : [];
    return issue.keys.map((key) => {
      const nearest = nearestName(key, known);
      const parent = where.length > 0 ? where.join('.') : 'the input';
      return `${[...where, key].join('.')}: unknown key${nearest ? `; did you mean "${nearest}"?` : ''}${known.length > 0 ? ` (${parent} takes ${known.join(', ')})` : ''}`;
    });
  });
}

/** The keys an object schema accepts at `path` (through defaults, optionals, unions, arrays and records). */
export function knownKeysAt(schema: z.ZodType, path: readonly string[]): string[] {
  const keys = new Set<string>();
  const visit = (node: z.core.$ZodType | undefined, rest: readonly string[]): void => {
    if (!node) return;
    const def = node._zod.def as unknown as Record<string, unknown> & { type: string };
    switch (def.type) {
      case 'object': {
        const shape = def.shape as Record<string, z.core.$ZodType>;
        if (rest.length === 0) Object.keys(shape).forEach((key) => keys.add(key));
        else visit(shape[rest[0] as string], rest.slice(1));
        return;
      }
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'readonly':
      case 'catch':
        return visit(def.innerType as z.core.$ZodType, rest);
      case 'pipe':
        return visit(def.in as z.core.$ZodType, rest);
      case 'union':
        return (def.options as z.core.$ZodType[]).forEach((option) => visit(option, rest));
      case 'array':
        return visit(def.element as z.core.$ZodType, rest.slice(1));
      case 'record':
        return visit(def.valueType as z.core.$ZodType, rest.slice(1));
      default:
        return;
    }
  };
  visit(schema, path);
  return [...keys];
}

/**
 * Validates a boundary value (workflow input, activity input, file contents). On failure throws a
 * non-retryable ApplicationFailure of type ValidationError naming every bad field, so a run started
 * from the Web UI with a typo fails at once with a message that says what to fix.
 */
export function parseOrFail<Schema extends z.ZodType>(schema: Schema, value: unknown, what: string): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = describeIssues(result.error, schema);
  throw validationFailure(`invalid ${what}: ${issues.join('; ')}`, { details: issues });
}

/**
 * Bad input that a person must fix (a missing source, a dataset with no records, a secret that holds
 * no token): a non-retryable ValidationError, so it fails at once instead of being retried, with a
 * message that says what to do.
 */
export function validationFailure(message: string, options: { cause?: unknown; details?: unknown[] } = {}): ApplicationFailure {
  return ApplicationFailure.create({
    type: ERROR_TYPES.validation,
    nonRetryable: true,
    message,
    ...(options.cause instanceof Error ? { cause: options.cause } : {}),
    ...(options.details ? { details: options.details } : {}),
  });
}
