/**
 * The evaluate stage's quality gate, as pure functions: thresholds on the twin's own metrics, then a
 * champion/challenger rule against the Approved version serving the target endpoint. The verdict lists
 * every check with its value, its bound and whether it passed, so a rejection says exactly why.
 *
 * Documented rules:
 * - A threshold on a metric the evaluation did not produce (no judge configured, a NaN perplexity)
 *   fails: a gate that cannot check a bound does not pass it.
 * - No champion (nothing Approved serves the endpoint): the champion rule passes, with a note.
 * - The champion lacks the primary metric (an older evaluation): the rule passes, with a note; the
 *   challenger lacking it fails.
 * - A tie passes: "not worse" is the bar. Tolerance is relative to the champion's value.
 */

export const GATE_METRICS = [
  'perplexity',
  'rouge_l',
  'style_cosine_delta',
  'style_char_ngram_distance',
  'judge_accuracy',
  'judge_style',
] as const;
export type GateMetric = (typeof GATE_METRICS)[number];

const LOWER_IS_BETTER: ReadonlySet<GateMetric> = new Set(['perplexity', 'style_cosine_delta', 'style_char_ngram_distance']);

/** A model's metrics as evaluation.json holds them (null where a number could not be computed). */
export type ModelMetrics = Partial<Record<GateMetric, number | null>>;

export interface GatePolicy {
  /** Upper bounds for lower-is-better metrics, lower bounds for the rest; each optional. */
  thresholds: Partial<Record<GateMetric, number>>;
  champion: { primaryMetric: GateMetric; tolerance: number };
}

export interface GateCheck {
  name: string;
  passed: boolean;
  /** Why, in a sentence a person can act on. */
  detail: string;
}

export interface GateVerdict {
  decision: 'approved' | 'rejected';
  checks: GateCheck[];
  /** The failed checks' details, in order: what the CLI and the Web UI show. */
  reasons: string[];
}

export function isLowerBetter(metric: GateMetric): boolean {
  return LOWER_IS_BETTER.has(metric);
}

function present(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function format(value: number): string {
  return Number(value.toPrecision(4)).toString();
}

export function thresholdChecks(metrics: ModelMetrics, thresholds: GatePolicy['thresholds']): GateCheck[] {
  return GATE_METRICS.flatMap((metric): GateCheck[] => {
    const bound = thresholds[metric];
    if (bound === undefined) return [];
    const value = metrics[metric];
    const name = `${metric} ${isLowerBetter(metric) ? '<=' : '>='} ${format(bound)}`;
    if (!present(value)) return [{ name, passed: false, detail: `${metric} was not measured, so its bound cannot be checked` }];
    const passed = isLowerBetter(metric) ? value <= bound : value >= bound;
    return [
      {
        name,
        passed,
        detail: `${metric} is ${format(value)}${passed ? '' : `, ${isLowerBetter(metric) ? 'above' : 'below'} the bound ${format(bound)}`}`,
      },
    ];
  });
}

export function championCheck(challenger: ModelMetrics, champion: ModelMetrics | undefined, rule: GatePolicy['champion']): GateCheck {
  const { primaryMetric: metric, tolerance } = rule;
  const name = `not worse than the champion on ${metric} (tolerance ${format(tolerance * 100)}%)`;
  if (!champion) return { name, passed: true, detail: 'no Approved version serves the target endpoint: nothing to beat' };
  const theirs = champion[metric];
  const ours = challenger[metric];
  if (!present(ours))
    return { name, passed: false, detail: `${metric} was not measured for this model, so it cannot be compared with the champion` };
  if (!present(theirs)) return { name, passed: true, detail: `the champion has no ${metric}: not compared` };
  const slack = Math.abs(theirs) * tolerance;
  const passed = isLowerBetter(metric) ? ours <= theirs + slack : ours >= theirs - slack;
  return {
    name,
    passed,
    detail: `${metric} is ${format(ours)} against the champion's ${format(theirs)}${passed ? '' : `: worse by more than ${format(tolerance * 100)}%`}`,
  };
}

export function decideGate(challenger: ModelMetrics, champion: ModelMetrics | undefined, policy: GatePolicy): GateVerdict {
  const checks = [...thresholdChecks(challenger, policy.thresholds), championCheck(challenger, champion, policy.champion)];
  const reasons = checks.filter((check) => !check.passed).map((check) => `${check.name}: ${check.detail}`);
  return { decision: reasons.length === 0 ? 'approved' : 'rejected', checks, reasons };
}
