/**
 * JSON with object keys sorted at every level, so equal values always serialize the same way: the input
 * of every content hash that names something (dataset hashes, training job names). Otherwise exactly
 * JSON.stringify: undefined members are left out, toJSON is honoured. Changing its output changes
 * those names; test/unit/shared/pinned-names.test.ts holds them.
 */
export function canonicalJson(value: unknown): string {
  return (
    JSON.stringify(value, (_key, item: unknown) =>
      item && typeof item === 'object' && !Array.isArray(item)
        ? Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : item,
    ) ?? 'null'
  );
}
