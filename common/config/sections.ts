import type { z } from 'zod';

/**
 * How a config section is declared: its schema under one top-level key and the environment variables
 * that set its fields. Each stage declares its own (common/<stage>/config.ts); common/config/schema.ts
 * composes them, and the env-var table is checked against the composed schema's fields.
 */
export type EnvVarKind = 'string' | 'number' | 'boolean' | 'list';

export interface EnvVarSpec<Path extends string = string> {
  name: string;
  /** Dotted path of the config field it sets, such as `idle.window`. */
  path: Path;
  /** How the text is read before validation: numbers, booleans and comma-separated lists are parsed. */
  kind: EnvVarKind;
}

/** Dotted paths to every leaf field of a config shape (arrays and maps are leaves). */
export type LeafPaths<T, Prefix extends string = ''> = {
  [K in keyof T & string]-?: NonNullable<T[K]> extends readonly unknown[]
    ? `${Prefix}${K}`
    : NonNullable<T[K]> extends Record<string, unknown>
      ? string extends keyof NonNullable<T[K]>
        ? `${Prefix}${K}`
        : LeafPaths<NonNullable<T[K]>, `${Prefix}${K}.`>
      : `${Prefix}${K}`;
}[keyof T & string];

/** A section: one top-level key, a strict schema (unknown keys are errors), its environment variables. */
export interface ConfigSection<Key extends string, Schema extends z.ZodType> {
  key: Key;
  schema: Schema;
  envVars: ReadonlyArray<EnvVarSpec<`${Key}.${LeafPaths<z.output<Schema>>}`>>;
}

export function configSection<Key extends string, Schema extends z.ZodType>(
  section: ConfigSection<Key, Schema>,
): ConfigSection<Key, Schema> {
  return section;
}
