import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { PROJECT_ROOT } from '../../scripts/dev-stack/stack';

/**
 * Recorded workflow histories, replayed by test/workflow/replay.test.ts against the current workflow
 * code: a change that would break running workflows (a command added, removed or reordered without
 * `patched()`) fails that test. Histories are recorded once, from the code as it was, and committed.
 */
export const HISTORIES_DIR = join(PROJECT_ROOT, 'test', 'replay', 'histories');

/** Set to re-record: `LLMTWIN_RECORD_HISTORIES=1 npx jest test/workflow/<file>` writes the tests' histories. */
const RECORD_ENV_VAR = 'LLMTWIN_RECORD_HISTORIES';

/** Saves the finished workflow's history as `<name>.json` when recording is asked for; otherwise does nothing. */
export async function recordHistoryIfAsked(handle: WorkflowHandle, name: string): Promise<void> {
  if (!process.env[RECORD_ENV_VAR]) return;
  const history = await handle.fetchHistory();
  mkdirSync(HISTORIES_DIR, { recursive: true });
  // The same proto3 JSON `temporal workflow show -o json` writes, so both sources look alike.
  writeFileSync(join(HISTORIES_DIR, `${name}.json`), `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 2)}\n`);
}

export interface RecordedHistory {
  name: string;
  workflowType: string;
  /** The queue it ran on: workflows that derive ids from their queue (the sweep's exclusive child) replay on it. */
  taskQueue: string;
  history: ReturnType<typeof historyFromJSON>;
}

export function recordedHistories(): RecordedHistory[] {
  return readdirSync(HISTORIES_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const history = JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8')) as {
        events: Array<Record<string, { workflowType?: { name?: string }; taskQueue?: { name?: string } } | undefined>>;
      };
      const started = history.events[0]?.workflowExecutionStartedEventAttributes;
      return {
        name: file.replace(/\.json$/, ''),
        workflowType: started?.workflowType?.name ?? 'unknown',
        taskQueue: started?.taskQueue?.name ?? 'replay',
        history: historyFromJSON(history),
      };
    });
}
