import { z } from 'zod';
import { DurationSchema } from '../shared/duration-schema';

/**
 * The stack check: the smallest real workflow, proving worker, Temporal and S3 are wired together.
 * It optionally waits (a durable timer) and then has an activity write one object to S3.
 */
export const StackCheckInputSchema = z
  .strictObject({
    message: z.string().min(1).max(10_000).default('hello from llmtwin'),
    /** Wait this long before writing; shows that timers are durable (and skippable in tests). */
    delay: DurationSchema.optional(),
  })
  .prefault({});

export type StackCheckInput = z.input<typeof StackCheckInputSchema>;

export const STACK_CHECK_WORKFLOW_TYPE = 'stackCheck';
/** The workflow's signature: what clients start by type name (the CLI never imports workflow code). */
export type StackCheckWorkflow = (input?: StackCheckInput) => Promise<StackCheckResult>;

export interface StackCheckObject {
  bucket: string;
  key: string;
  uri: string;
  sha256: string;
  bytes: number;
}

export interface StackCheckResult extends StackCheckObject {
  workflowId: string;
  waitedMs: number;
}
