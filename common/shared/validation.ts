import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { ERROR_TYPES } from './errors';

/** One line per problem: `field.path: message`. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(input)'}: ${issue.message}`);
}

/**
 * Validates a boundary value (workflow input, activity input, file contents). On failure throws a
 * non-retryable ApplicationFailure of type ValidationError naming every bad field, so a run started
 * from the Web UI with a typo fails at once with a message that says what to fix.
 */
export function parseOrFail<Schema extends z.ZodType>(schema: Schema, value: unknown, what: string): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = describeIssues(result.error);
  throw ApplicationFailure.create({
    type: ERROR_TYPES.validation,
    nonRetryable: true,
    message: `invalid ${what}: ${issues.join('; ')}`,
    details: issues,
  });
}
