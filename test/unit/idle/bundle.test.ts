import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_TASK_QUEUE, taskQueuesFor } from '../../../common/shared/task-queues';
import { IDLE_SWEEP_SCHEDULE_ID, idleSweepScheduleId } from '../../../common/idle/sweep';
import { PROJECT_ROOT } from '../../../scripts/dev-stack/stack';

/**
 * Every module the idle worker's bundle evaluates for each cached monitor: the static, value (not
 * `import type`) imports reachable from workflows/idle/index.ts. Lazy `require()`s are left out on purpose:
 * webpack evaluates them only when called.
 */
function staticImportGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (graph.has(file)) continue;
    const source = readFileSync(file, 'utf8');
    const specifiers = [...source.matchAll(/^(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)].map(
      (match) => match[1]!,
    );
    graph.set(file, specifiers);
    for (const specifier of specifiers.filter((spec) => spec.startsWith('.'))) {
      const base = resolve(dirname(file), specifier);
      pending.push([`${base}.ts`, join(base, 'index.ts')].find((candidate) => exists(candidate)) ?? `${base}.ts`);
    }
  }
  return graph;
}

function exists(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}

describe('the idle workers bundle', () => {
  it('never loads zod for a monitor (zod would cost about 0.8 MB per cached workflow)', () => {
    const graph = staticImportGraph(join(PROJECT_ROOT, 'workflows', 'idle', 'index.ts'));
    const zodImporters = [...graph]
      .filter(([, specifiers]) => specifiers.some((spec) => spec === 'zod' || spec.startsWith('zod/')))
      .map(([file]) => file.replace(`${PROJECT_ROOT}/`, ''));
    expect(zodImporters).toEqual([]);
    // The walk really covers the workflows and their contract (a broken walk would pass the check above).
    expect([...graph.keys()].map((file) => file.replace(`${PROJECT_ROOT}/`, ''))).toEqual(
      expect.arrayContaining([
        'workflows/idle/monitor.ts',
        'workflows/idle/checks.ts',
        'common/idle/contract.ts',
        'common/shared/durations.ts',
      ]),
    );
  });

  it('the graph walk does see zod where it is imported', () => {
    const graph = staticImportGraph(join(PROJECT_ROOT, 'workflows', 'idle', 'checks-in-sandbox.ts'));
    expect(graph.get(join(PROJECT_ROOT, 'common', 'idle', 'schemas.ts'))).toContain('zod');
  });
});

describe('idleSweepScheduleId', () => {
  it('keeps one id for the default deployment, whichever of its queues the sweep runs on', () => {
    expect(idleSweepScheduleId(taskQueuesFor(DEFAULT_TASK_QUEUE).idle)).toBe(IDLE_SWEEP_SCHEDULE_ID);
    expect(idleSweepScheduleId(DEFAULT_TASK_QUEUE)).toBe(IDLE_SWEEP_SCHEDULE_ID);
    expect(idleSweepScheduleId('team-a-idle')).toBe(`${IDLE_SWEEP_SCHEDULE_ID}-team-a-idle`);
  });
});
