import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { ERROR_TYPES } from './errors';
import { nearestName } from './nearest';

/** One problem: the field it is about (a dotted path, `(input)` for the whole value) and what is wrong. */
export interface Issue {
  field: string;
  message: string;
}

/**
 * The problems of a failed parse, one per field. An unknown key (strict schemas refuse them rather than
 * drop them silently) is named with where it was, the nearest valid key and the valid ones, when the
 * schema is given: `chunk.maxToken: unknown key; did you mean "maxTokens"? (valid in chunk: ...)`.
 */
export function issuesOf(error: z.ZodError, schema?: z.ZodType): Issue[] {
  return error.issues.flatMap((issue) => {
    const where = issue.path.map(String);
    if (issue.code !== 'unrecognized_keys') return [{ field: where.length > 0 ? where.join('.') : '(input)', message: issue.message }];
    const known = schema ? knownKeysAt(schema, where) : [];
    return issue.keys.map((key) => {
      const nearest = nearestName(key, known);
      const parent = where.length > 0 ? where.join('.') : 'the input';
      const hint = known.length > 0 ? ` (valid in ${parent}: ${known.join(', ')})` : '';
      return { field: [...where, key].join('.'), message: `unknown key${nearest ? `; did you mean "${nearest}"?` : ''}${hint}` };
    });
  });
}

/** One line per problem: `field.path: message`. */
export function describeIssues(error: z.ZodError, schema?: z.ZodType): string[] {
  return issuesOf(error, schema).map((issue) => `${issue.field}: ${issue.message}`);
}

/**
 * The value with every key the schema does not know removed, at every level: how the lenient schemas
 * of old read what the strict ones now refuse. Only for replaying histories recorded before inputs were
 * strict (see workflows/boundary.ts); never for new input.
 */
export function withoutUnknownKeys(schema: z.ZodType, value: unknown): unknown {
  const strip = (node: z.core.$ZodType, item: unknown): unknown => {
    const def = node._zod.def as unknown as Record<string, unknown> & { type: string };
    switch (def.type) {
      case 'object': {
        if (item === null || typeof item !== 'object' || Array.isArray(item)) return item;
        const shape = def.shape as Record<string, z.core.$ZodType>;
        return Object.fromEntries(Object.entries(item).flatMap(([key, child]) => (shape[key] ? [[key, strip(shape[key], child)]] : [])));
      }
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'readonly':
      case 'catch':
        return strip(def.innerType as z.core.$ZodType, item);
      case 'pipe':
        return strip(def.in as z.core.$ZodType, item);
      case 'union': {
        // The first option the stripped value satisfies (a discriminated union's one match).
        for (const option of def.options as z.core.$ZodType[]) {
          const candidate = strip(option, item);
          if ((option as unknown as z.ZodType).safeParse(candidate).success) return candidate;
        }
        return item;
      }
      case 'array':
        return Array.isArray(item) ? item.map((element) => strip(def.element as z.core.$ZodType, element)) : item;
      case 'record':
        return item !== null && typeof item === 'object' && !Array.isArray(item)
          ? Object.fromEntries(Object.entries(item).map(([key, child]) => [key, strip(def.valueType as z.core.$ZodType, child)]))
          : item;
      default:
        return item;
    }
  };
  return strip(schema, value);
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
      case 'nonoptional':
        return visit(def.innerType as z.core.$ZodType, rest);
      case 'pipe':
        // A transform's input side, or (z.preprocess) the schema the preprocessed value goes to.
        visit(def.in as z.core.$ZodType, rest);
        return visit(def.out as z.core.$ZodType, rest);
      case 'lazy':
        return visit((def.getter as () => z.core.$ZodType)(), rest);
      case 'intersection':
        visit(def.left as z.core.$ZodType, rest);
        return visit(def.right as z.core.$ZodType, rest);
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

/** A resource under our deterministic name that is not what we would make (someone else's): non-retryable, never adopted. */
export function conflictFailure(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: ERROR_TYPES.conflict, nonRetryable: true, message });
}
