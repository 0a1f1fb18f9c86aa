import { patched } from '@temporalio/workflow';
import type { z } from 'zod';
import { parseOrFail, withoutUnknownKeys } from '../common/shared/validation';

/**
 * Histories recorded before workflow inputs were strict ignored unknown keys; they replay the same way.
 * New runs refuse an unknown key (a misspelt `chunk.maxToken`, say), naming it and the nearest valid one.
 */
export const STRICT_INPUTS_PATCH = 'strict-workflow-inputs';

/** The workflow's input, parsed with its contract's schema; a bad one fails the run at once (ValidationError). */
export function parseWorkflowInput<Schema extends z.ZodType>(schema: Schema, raw: unknown, what: string): z.output<Schema> {
  return parseOrFail(schema, patched(STRICT_INPUTS_PATCH) ? raw : withoutUnknownKeys(schema, raw), what);
}
