import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import * as presets from '../../../common/shared/activity-options';
import { PROJECT_ROOT } from '../../../scripts/dev-stack/stack';

/**
 * Every proxyActivities / proxyLocalActivities call in workflows/ takes a named preset from
 * common/shared/activity-options.ts, so timeouts and retry policies are decided in one place and never
 * overridden at the call site. The one allowed addition is `taskQueue` (routing, not policy).
 */
const PROXIES = new Set(['proxyActivities', 'proxyLocalActivities']);
const PRESET_NAMES = new Set(Object.keys(presets));

function workflowFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return workflowFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** `where: what is wrong` for each proxy call whose options are not a bare preset (or a preset plus taskQueue). */
function offences(file: string): { calls: number; problems: string[] } {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const problems: string[] = [];
  let calls = 0;
  const where = (node: ts.Node) => `${relative(PROJECT_ROOT, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  const isPreset = (node: ts.Node) => ts.isIdentifier(node) && PRESET_NAMES.has(node.text);
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && PROXIES.has(node.expression.text)) {
      calls += 1;
      const [options] = node.arguments;
      if (!options) problems.push(`${where(node)}: no options`);
      else if (ts.isObjectLiteralExpression(options)) {
        const spreads = options.properties.filter(ts.isSpreadAssignment);
        const others = options.properties.filter((property) => !ts.isSpreadAssignment(property));
        if (spreads.length !== 1 || !isPreset(spreads[0]!.expression)) problems.push(`${where(node)}: spread exactly one preset`);
        for (const property of others) {
          const name = property.name && ts.isIdentifier(property.name) ? property.name.text : '?';
          if (name !== 'taskQueue') problems.push(`${where(node)}: "${name}" overrides the preset; add a preset instead`);
        }
      } else if (!isPreset(options)) problems.push(`${where(node)}: pass a preset from common/shared/activity-options.ts`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { calls, problems };
}

describe('activity option presets', () => {
  const results = workflowFiles(join(PROJECT_ROOT, 'workflows')).map(offences);

  it('are what every proxy in workflows/ takes, unchanged but for taskQueue', () => {
    expect(results.flatMap((result) => result.problems)).toEqual([]);
  });

  it('the check sees the proxies (a walk that finds none would pass the test above)', () => {
    expect(results.reduce((total, result) => total + result.calls, 0)).toBeGreaterThanOrEqual(8);
  });

  it('the check catches an override', () => {
    const file = join(PROJECT_ROOT, '.tmp', 'preset-offence.ts');
    mkdirSync(join(PROJECT_ROOT, '.tmp'), { recursive: true });
    writeFileSync(
      file,
      "const a = proxyActivities<X>({ ...AWS_CALL, startToCloseTimeout: '5m' });\nconst b = proxyActivities<X>({ startToCloseTimeout: '1m' });\n",
    );
    try {
      expect(offences(file).problems).toEqual([
        expect.stringContaining('"startToCloseTimeout" overrides the preset'),
        expect.stringContaining('spread exactly one preset'),
        expect.stringContaining('"startToCloseTimeout" overrides the preset'),
      ]);
    } finally {
      rmSync(file, { force: true });
    }
  });
});

describe('heartbeat timeouts', () => {
  it('every remote preset has one: a killed worker is noticed within it, not after the start-to-close timeout', () => {
    const remote = Object.entries(presets).filter(([name]) => !name.includes('LOCAL')) as Array<[string, { heartbeatTimeout?: string }]>;
    expect(remote.filter(([, options]) => !options.heartbeatTimeout).map(([name]) => name)).toEqual([]);
    expect(presets.AWS_CALL.heartbeatTimeout).toBe('20s');
  });
});
