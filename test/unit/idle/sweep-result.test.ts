import { boundSweepRows, emptySweepResult, type FleetRow } from '../../../common/idle/sweep';
import { fleetLines } from '../../../scripts/commands/idle-fleet';

const row = (index: number, monitor: string, costPerDayUsd: number | null): FleetRow => ({
  endpointName: `ep-${index}`,
  status: 'InService',
  managed: true,
  keep: false,
  instances: '1 x ml.g5.xlarge',
  lastInvocationAt: null,
  idleMs: 0,
  idleIsLowerBound: true,
  costPerDayUsd,
  monitor,
  monitorState: null,
  deleteAt: null,
});

describe("a sweep result's rows in workflow history", () => {
  it('keeps every row of a fleet within the bound, and says nothing was left out', () => {
    const result = { ...emptySweepResult('ensure', 0), rows: [row(0, 'running', 1), row(1, 'started', 2)] };
    expect(boundSweepRows(result, 2)).toBe(result);
    expect(fleetLines(result).join('\n')).not.toMatch(/not shown/);
  });

  it('keeps the rows that need a look first (monitor not running, then the costliest), in the sweep order, and counts the rest', () => {
    const rows = [
      row(0, 'running', 5),
      row(1, 'running', 50),
      row(2, 'none', 1),
      row(3, 'running', null),
      row(4, 'started', 0),
      row(5, 'running', 20),
    ];
    const bounded = boundSweepRows({ ...emptySweepResult('ensure', 0), rows }, 4);
    expect(bounded.rows.map((kept) => kept.endpointName)).toEqual(['ep-1', 'ep-2', 'ep-4', 'ep-5']);
    expect(bounded.rowsOmitted).toBe(2);
    expect(fleetLines(bounded).join('\n')).toMatch(
      /\.\.\. and 2 more endpoint\(s\) not shown: a sweep's result keeps 4 rows .*\.\/llmtwin endpoints list shows every one/,
    );
  });

  it('keeps a 3,000-endpoint sweep result under the 512 KB payload warning', () => {
    const rows = Array.from({ length: 3000 }, (_, index) => row(index, 'running', 12.5));
    const bounded = boundSweepRows({ ...emptySweepResult('ensure', 0), rows });
    expect(bounded.rows).toHaveLength(1000);
    expect(JSON.stringify(rows).length).toBeGreaterThan(512 * 1024);
    expect(JSON.stringify(bounded).length).toBeLessThan(512 * 1024);
  });
});
