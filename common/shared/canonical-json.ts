/**
 * JSON with object keys sorted at every level (as strings, so "10" sorts before "9"), so equal values
 * always serialize the same way: the input of every content hash that names something (dataset
 * hashes, training job names). Otherwise as JSON.stringify: toJSON is honoured, undefined and function
 * members are left out of objects and written as null in arrays. Changing its output changes those
 * names; test/unit/shared/pinned-names.test.ts holds them.
 */
export function canonicalJson(value: unknown): string {
  return write(value) ?? 'null';
}

function write(value: unknown): string | undefined {
  const item =
    value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function'
      ? (value as { toJSON(): unknown }).toJSON()
      : value;
  if (item === undefined || typeof item === 'function' || typeof item === 'symbol') return undefined;
  if (Array.isArray(item)) return `[${item.map((element) => write(element) ?? 'null').join(',')}]`;
  if (item !== null && typeof item === 'object') {
    const members = Object.keys(item)
      .sort()
      .flatMap((key) => {
        const written = write((item as Record<string, unknown>)[key]);
        return written === undefined ? [] : [`${JSON.stringify(key)}:${written}`];
      });
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(item);
}
