/**
 * What SageMaker does with a job's log, done on the local log: every MetricDefinitions regex applied to
 * every line (the last match of each is the final metric), plus the step counter the local runner
 * heartbeats. Pure and incremental: fed the log's new bytes, it keeps the unfinished last line.
 */
export interface MetricDefinition {
  Name: string;
  Regex: string;
}

export interface LogFindings {
  /** The last value of each metric (SageMaker's final metrics). */
  metrics: Record<string, number>;
  /** The first value of each (for a loss: where training started from). */
  firstMetrics: Record<string, number>;
  progress?: { step: number; total: number };
}

export class LogScanner {
  private readonly definitions: Array<{ name: string; regex: RegExp }>;
  private readonly progress: RegExp | undefined;
  private pending = '';
  readonly findings: LogFindings = { metrics: {}, firstMetrics: {} };

  constructor(definitions: readonly MetricDefinition[], progressRegex?: string) {
    this.definitions = definitions.map((definition) => ({ name: definition.Name, regex: new RegExp(definition.Regex) }));
    this.progress = progressRegex ? new RegExp(progressRegex) : undefined;
  }

  /** Feeds more of the log; returns whether anything it reports changed. */
  feed(text: string): boolean {
    const lines = (this.pending + text).split('\n');
    this.pending = lines.pop() ?? '';
    let changed = false;
    for (const line of lines) changed = this.scan(line) || changed;
    return changed;
  }

  /** The log ended: its last line counts even without a newline. */
  finish(): boolean {
    const last = this.pending;
    this.pending = '';
    return last ? this.scan(last) : false;
  }

  private scan(line: string): boolean {
    let changed = false;
    for (const { name, regex } of this.definitions) {
      const match = regex.exec(line);
      if (!match?.[1]) continue;
      const value = Number(match[1]);
      // SageMaker drops what does not parse as a number; nan and inf are not valid metric values there either.
      if (!Number.isFinite(value)) continue;
      this.findings.metrics[name] = value;
      this.findings.firstMetrics[name] ??= value;
      changed = true;
    }
    const progress = this.progress?.exec(line);
    if (progress?.[1] && progress[2]) {
      this.findings.progress = { step: Number(progress[1]), total: Number(progress[2]) };
      changed = true;
    }
    return changed;
  }
}

/**
 * Why a program failed, as SageMaker words it: the program's own `output/failure` file when it wrote one,
 * else the last line of its log that is not a metric (for a Python crash, the exception line of the
 * traceback), with the exit code.
 */
export function failureReason(exitDescription: string, failureFile: string | undefined, logTail: string): string {
  const written = failureFile?.trim();
  if (written) return `AlgorithmError: ${written.slice(0, 1000)}`;
  const lastLine = logTail
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !/^llmtwin-(metric|progress|local)\b/.test(line))
    .at(-1);
  return `AlgorithmError: ${exitDescription}${lastLine ? `: ${lastLine.slice(0, 1000)}` : ''}`;
}
