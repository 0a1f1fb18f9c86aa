import { championCheck, decideGate, thresholdChecks, type GatePolicy } from '../../../common/evaluate/gate';

const policy: GatePolicy = {
  thresholds: { perplexity: 20, rouge_l: 0.04, style_cosine_delta: 1.9 },
  champion: { primaryMetric: 'perplexity', tolerance: 0.05 },
};
const twin = { perplexity: 14.75, rouge_l: 0.047, style_cosine_delta: 1.887, style_char_ngram_distance: 0.564, judge_accuracy: null };

describe('the quality gate', () => {
  it('approves a model within every bound when nothing Approved serves the endpoint, saying there was nothing to beat', () => {
    const verdict = decideGate(twin, undefined, policy);
    expect(verdict.decision).toBe('approved');
    expect(verdict.reasons).toEqual([]);
    expect(verdict.checks.at(-1)).toMatchObject({
      passed: true,
      detail: 'no Approved version serves the target endpoint: nothing to beat',
    });
  });

  it('checks each bound in its own direction and names the one that failed', () => {
    expect(thresholdChecks({ ...twin, perplexity: 25 }, policy.thresholds).filter((check) => !check.passed)).toEqual([
      { name: 'perplexity <= 20', passed: false, detail: 'perplexity is 25, above the bound 20' },
    ]);
    expect(thresholdChecks({ ...twin, rouge_l: 0.01 }, policy.thresholds).filter((check) => !check.passed)).toEqual([
      { name: 'rouge_l >= 0.04', passed: false, detail: 'rouge_l is 0.01, below the bound 0.04' },
    ]);
    // Exactly on the bound passes.
    expect(thresholdChecks({ ...twin, perplexity: 20 }, policy.thresholds).every((check) => check.passed)).toBe(true);
  });

  it('fails a bound on a metric that was not measured (no judge configured): a bound it cannot check is not passed', () => {
    const verdict = decideGate(twin, undefined, { ...policy, thresholds: { judge_accuracy: 2 } });
    expect(verdict.decision).toBe('rejected');
    expect(verdict.reasons).toEqual(['judge_accuracy >= 2: judge_accuracy was not measured, so its bound cannot be checked']);
  });

  it('compares with the champion within the tolerance: a tie or a small loss passes, a larger one rejects', () => {
    const rule = policy.champion;
    expect(championCheck({ perplexity: 14 }, { perplexity: 14 }, rule).passed).toBe(true);
    expect(championCheck({ perplexity: 14.6 }, { perplexity: 14 }, rule).passed).toBe(true); // 4.3% worse, within 5%
    const worse = championCheck({ perplexity: 15 }, { perplexity: 14 }, rule);
    expect(worse).toMatchObject({ passed: false, detail: "perplexity is 15 against the champion's 14: worse by more than 5%" });
    // Higher-is-better metrics the other way round.
    expect(championCheck({ rouge_l: 0.3 }, { rouge_l: 0.4 }, { primaryMetric: 'rouge_l', tolerance: 0.1 }).passed).toBe(false);
    expect(championCheck({ rouge_l: 0.5 }, { rouge_l: 0.4 }, { primaryMetric: 'rouge_l', tolerance: 0 }).passed).toBe(true);
  });

  it('passes when the champion lacks the primary metric (an older evaluation), and rejects a challenger that lacks it', () => {
    expect(championCheck({ perplexity: 14 }, { rouge_l: 0.2 }, policy.champion)).toMatchObject({
      passed: true,
      detail: 'the champion has no perplexity: not compared',
    });
    expect(championCheck({ rouge_l: 0.2 }, { perplexity: 14 }, policy.champion).passed).toBe(false);
    expect(decideGate({ ...twin, perplexity: null }, { perplexity: 14 }, policy).decision).toBe('rejected');
  });

  it('lists every failed check as a reason, in order', () => {
    const verdict = decideGate({ ...twin, perplexity: 30, rouge_l: 0.01 }, { perplexity: 10 }, policy);
    expect(verdict.decision).toBe('rejected');
    expect(verdict.reasons.map((reason) => reason.split(':')[0])).toEqual([
      'perplexity <= 20',
      'rouge_l >= 0.04',
      'not worse than the champion on perplexity (tolerance 5%)',
    ]);
  });
});
