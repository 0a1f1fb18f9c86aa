import { distance } from 'fastest-levenshtein';

/**
 * The valid name a typo most likely meant ("windw" -> "window", "LLMTWIN_IDLE_WINDW" ->
 * "LLMTWIN_IDLE_WINDOW"), or undefined when nothing is close: at most a third of the name's letters
 * (at least two) may differ, so a suggestion is a likely fix rather than a guess. Case is ignored.
 */
export function nearestName(input: string, candidates: readonly string[]): string | undefined {
  const wanted = input.toLowerCase();
  let best: { name: string; cost: number } | undefined;
  for (const name of candidates) {
    const cost = distance(wanted, name.toLowerCase());
    if (!best || cost < best.cost) best = { name, cost };
  }
  return best && best.cost <= Math.max(2, Math.floor(input.length / 3)) ? best.name : undefined;
}
