import { z } from 'zod';
import { s3UriSchema } from '../shared/schemas';
import { GENRES } from './text/genre';

/**
 * The prepare-data contract: the workflow input (one zod schema, types inferred), the manifest written
 * next to every dataset, and the small result the workflow returns to its caller (the CLI, the Web UI,
 * or the end-to-end pipeline, which hands `datasetUri` to fine-tuning).
 */

/**
 * Bumped whenever a change to the preparation code changes its output for the same input. It is part
 * of the dataset hash, so an old dataset is never mistaken for what the new code would produce.
 */
export const DATASET_CODE_VERSION = 'prepare-data/3';

export const PREPARE_DATA_WORKFLOW_TYPE = 'prepareData';
/** The value of the LlmtwinStage search attribute on prepare-data runs. */
export const PREPARE_DATA_STAGE = 'prepare-data';

/**
 * The workflow that builds one dataset, a child of the prepareData run that asked first. Its id is one
 * per dataset and task queue (a queue's workers share one bucket and prefix), and Temporal runs one
 * execution of an id at a time: runs that ask for a dataset while it is being built wait for it instead
 * of building it again.
 */
export const DATASET_BUILD_WORKFLOW_TYPE = 'datasetBuild';

export function datasetBuildWorkflowId(taskQueue: string, datasetHash: string): string {
  return `dataset-build-${taskQueue}-${datasetHash.slice(0, 32)}`;
}

/** The tokenizer token counts refer to (gpt-tokenizer's cl100k_base; Llama 3's vocabulary extends it). */
export const DATASET_TOKENIZER = 'cl100k_base';

export const SOURCE_FORMATS = ['markdown', 'text', 'html', 'json', 'jsonl'] as const;
export type SourceFormat = (typeof SOURCE_FORMATS)[number];

/** Which files are read as which format, by extension (lower-cased). Anything else is skipped and reported. */
export const FORMAT_EXTENSIONS: Readonly<Record<SourceFormat, readonly string[]>> = {
  markdown: ['.md', '.markdown', '.mdx'],
  text: ['.txt', '.text'],
  html: ['.html', '.htm', '.xhtml'],
  json: ['.json'],
  jsonl: ['.jsonl', '.ndjson'],
};

/** A dotted path into a JSON record, such as `text` or `content.body`. */
const FieldPath = z.string().regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, 'must be a field name or dotted path such as "content.body"');
const RegexSource = z.string().refine(isValidRegex, { message: 'must be a valid JavaScript regular expression' });

export const DataSourceSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('local'),
    /** A folder (or a single file) readable by the data worker; relative paths resolve against the worker's cwd. */
    path: z.string().min(1, 'must name a folder, e.g. "examples/corpus"'),
  }),
  z.strictObject({
    kind: z.literal('s3'),
    /** Every object under this prefix is read. */
    uri: s3UriSchema('s3://my-bucket/writing/'),
  }),
]);

export const PrepareDataInputSchema = z
  .strictObject({
    source: DataSourceSchema,
    /** Used to phrase instructions ("As Ada, ..."); never required. */
    author: z
      .strictObject({
        name: z.string().trim().min(1).max(200).optional(),
        handle: z.string().trim().min(1).max(100).optional(),
      })
      .prefault({}),
    formats: z
      .strictObject({
        include: z
          .array(z.enum(SOURCE_FORMATS))
          .min(1, 'name at least one format')
          .default([...SOURCE_FORMATS]),
        /** Field names in JSON/JSONL exports (dotted paths allowed). */
        json: z
          .strictObject({
            textField: FieldPath.default('text'),
            titleField: FieldPath.default('title'),
            /** For .json files holding an object rather than an array: the field with the array of posts. */
            recordsField: FieldPath.optional(),
            /** A record's own date, which the dedup keep rule reads (an original is older than its copy). */
            dateField: FieldPath.default('date'),
          })
          .prefault({}),
      })
      .prefault({}),
    clean: z
      .strictObject({
        /** Drop share/subscribe/copyright lines and similar page furniture (see text/clean.ts). */
        stripBoilerplate: z.boolean().default(true),
        /** Extra line patterns to drop (JavaScript regex sources, matched case-insensitively against whole lines). */
        boilerplatePatterns: z.array(RegexSource).max(100).default([]),
        /** Long files are cut into documents of at most this many characters, at paragraph boundaries. */
        maxDocumentChars: z.number().int().min(1_000).max(10_000_000).default(200_000),
        /**
         * A block of prose repeated word for word in at least this many files (a sponsor paragraph, a
         * banner, a footer) is boilerplate, found by frequency and removed everywhere; 0 turns it off.
         */
        repeatedBlockMinFiles: z.number().int().min(0).max(100_000).default(3),
      })
      .prefault({}),
    dedup: z
      .strictObject({
        exact: z.boolean().default(true),
        near: z.boolean().default(true),
        /** Estimated Jaccard similarity of word shingles at or above which a document is a near duplicate. */
        threshold: z.number().min(0.5).max(1).default(0.8),
        shingleWords: z.number().int().min(1).max(16).default(5),
        permutations: z.union([z.literal(64), z.literal(128), z.literal(256)]).default(128),
        /** Which of two duplicates stays (text/keep.ts): `original` does not let an edited copy displace it. */
        keep: z.enum(['original', 'newest', 'first-path']).default('original'),
        /**
         * Paragraph-level exact dedup across documents: a document whose paragraphs all appear in a larger
         * one is dropped (contained), and a paragraph already in a kept document is not repeated in another,
         * which is also what keeps every test paragraph out of train.
         */
        paragraphs: z.boolean().default(true),
      })
      .prefault({}),
    chunk: z
      .strictObject({
        /** Answer length. 1024 keeps instruction + chat template + answer well inside a 2k-token context. */
        maxTokens: z.number().int().positive('must be a positive number of tokens').max(8192).default(1024),
        overlapTokens: z.number().int().min(0).default(128),
        /** Chunks shorter than this are dropped (and counted) rather than trained on. */
        minTokens: z.number().int().min(1).default(16),
      })
      .prefault({}),
    instruct: z
      .strictObject({
        /** `template`: instructions from title/topic/first sentence, no model needed. `generator`: an OpenAI-compatible endpoint from config. */
        mode: z.enum(['template', 'generator']).default('template'),
        /** The kind of writing, which phrases the instructions; `auto` detects it per document (text/genre.ts). */
        genre: z.enum(['auto', ...GENRES]).default('auto'),
      })
      .prefault({}),
    split: z
      .strictObject({
        testRatio: z.number().min(0.01).max(0.5).default(0.1),
        /** Changing the seed reshuffles which documents land in test. */
        seed: z.string().min(1).max(100).default('llmtwin'),
      })
      .prefault({}),
  })
  .superRefine((input, ctx) => {
    if (input.chunk.overlapTokens >= input.chunk.maxTokens) {
      ctx.addIssue({
        code: 'custom',
        path: ['chunk', 'overlapTokens'],
        message: `must be smaller than chunk.maxTokens (${input.chunk.maxTokens})`,
      });
    }
    if (input.chunk.minTokens > input.chunk.maxTokens) {
      ctx.addIssue({ code: 'custom', path: ['chunk', 'minTokens'], message: `must not exceed chunk.maxTokens (${input.chunk.maxTokens})` });
    }
  });

export type PrepareDataInput = z.input<typeof PrepareDataInputSchema>;
export type PrepareDataSettings = z.output<typeof PrepareDataInputSchema>;

/** A dataset's content hash: sha256, hex. It names S3 prefixes and scratch folders, so nothing else passes. */
export const DatasetHashSchema = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'a dataset hash is 64 lowercase hex digits (the datasetHash planDataset gives)');

/** What the build of one dataset gets: the validated input, and the hash planning gave it (the build checks the source still hashes to it). */
export const BuildDatasetRequestSchema = z.object({ input: PrepareDataInputSchema, datasetHash: DatasetHashSchema }).strict();
export type BuildDatasetRequest = z.input<typeof BuildDatasetRequestSchema>;

/** One line of train.jsonl / test.jsonl: the instruction and the author's own text as the answer. */
export const DatasetRecordSchema = z.object({
  id: z.string(),
  instruction: z.string().min(1),
  output: z.string().min(1),
  /** Where the text came from: relative path, plus `#L<line>` for a JSONL record or `#<n>` for a section. */
  source: z.string(),
  title: z.string().optional(),
  /** cl100k_base tokens in `output`. */
  tokens: z.number().int().positive(),
});
export type DatasetRecord = z.infer<typeof DatasetRecordSchema>;

const FileEntrySchema = z.object({
  key: z.string(),
  uri: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().min(0),
  records: z.number().int().min(0),
});

export const SkippedItemSchema = z.object({ source: z.string(), reason: z.string() });
export type SkippedItem = z.infer<typeof SkippedItemSchema>;

export const TokenStatsSchema = z.object({
  tokenizer: z.string(),
  total: z.number().int().min(0),
  min: z.number().int().min(0),
  max: z.number().int().min(0),
  mean: z.number().min(0),
  p50: z.number().int().min(0),
  p95: z.number().int().min(0),
});
export type TokenStats = z.infer<typeof TokenStatsSchema>;

export const GeneratorReportSchema = z.object({
  model: z.string(),
  baseUrl: z.string(),
  requests: z.number().int().min(0),
  retries: z.number().int().min(0),
  /** Chunks whose generation failed after every retry; they fell back to a template instruction. */
  fallbacks: z.number().int().min(0),
  promptTokens: z.number().int().min(0),
  completionTokens: z.number().int().min(0),
  costUsd: z.number().min(0),
});
export type GeneratorReport = z.infer<typeof GeneratorReportSchema>;

/** What a reader should know about a dataset before training on it (targets in the README). */
export const QualityReportSchema = z.object({
  records: z.number().int().min(0),
  tokens: z.number().int().min(0),
  /** Records whose ``` / ~~~ fences all close (target: every record). */
  recordsWithBalancedFences: z.number().int().min(0),
  balancedFencesShare: z.number().min(0).max(1),
  /** Records that start, or end, partway through a block (a block longer than a chunk forces it; target 0 otherwise). */
  recordsStartingInsideBlock: z.number().int().min(0),
  recordsEndingInsideBlock: z.number().int().min(0),
  recordsEndingOnHeading: z.number().int().min(0),
  /** Blocks that alone were longer than a chunk and were cut (fences closed and reopened). */
  blocksSplit: z.number().int().min(0),
  /** Paragraphs of test records that also appear in train records (target 0). */
  trainTestParagraphOverlap: z.number().int().min(0),
  /** Documents by kind of writing, which the instructions were phrased for. */
  genres: z.record(z.string(), z.number().int().min(0)),
});
export type QualityReport = z.infer<typeof QualityReportSchema>;

const DuplicatePairSchema = z.object({
  /** The document dropped, and the one kept in its place. */
  source: z.string(),
  duplicateOf: z.string(),
  kind: z.enum(['exact', 'near', 'contained']),
  similarity: z.number(),
  /** Why this one was kept rather than the other (the keep rule's reason). */
  rule: z.string(),
});

export const ManifestSchema = z.object({
  schemaVersion: z.literal(2),
  datasetHash: DatasetHashSchema,
  codeVersion: z.string(),
  createdAt: z.string(),
  /**
   * The activity that published it: a retry of that same activity (its answer was lost) finds the
   * dataset it made itself, which is not a reuse. Absent in manifests written before it was recorded.
   */
  builtBy: z.object({ workflowId: z.string(), runId: z.string(), activityId: z.string() }).optional(),
  source: z.object({ kind: z.enum(['local', 's3']), location: z.string(), files: z.number().int().min(0), bytes: z.number().int().min(0) }),
  /** The settings the dataset was built with (the parsed input, less the source location). */
  config: z.record(z.string(), z.unknown()),
  record: z.object({ format: z.literal('jsonl'), fields: z.array(z.string()) }),
  files: z.object({ train: FileEntrySchema, test: FileEntrySchema }),
  counts: z.object({
    filesRead: z.number().int().min(0),
    filesSkipped: z.number().int().min(0),
    bytesRead: z.number().int().min(0),
    documents: z.number().int().min(0),
    emptyDocuments: z.number().int().min(0),
    exactDuplicates: z.number().int().min(0),
    nearDuplicates: z.number().int().min(0),
    /** Documents whose every paragraph is in a larger kept document (a README exported again as JSONL rows). */
    containedDuplicates: z.number().int().min(0),
    /** Paragraphs dropped from a document because a kept document has them already. */
    repeatedParagraphsRemoved: z.number().int().min(0),
    /** Blocks removed as boilerplate repeated across files. */
    boilerplateBlocksRemoved: z.number().int().min(0),
    keptDocuments: z.number().int().min(0),
    skippedRecords: z.number().int().min(0),
    shortChunksDropped: z.number().int().min(0),
    trainRecords: z.number().int().min(0),
    testRecords: z.number().int().min(0),
  }),
  tokens: TokenStatsSchema,
  dedup: z.object({
    method: z.string(),
    threshold: z.number(),
    shingleWords: z.number().int(),
    permutations: z.number().int(),
    bands: z.number().int(),
    rows: z.number().int(),
    keep: z.string(),
    /** Every duplicate pair (up to 10,000; the counts are complete): what was dropped, what was kept, and why. */
    pairs: z.array(DuplicatePairSchema),
  }),
  /** Blocks of prose repeated in many files, found by frequency and removed (sponsor blocks, banners, footers). */
  boilerplate: z.object({
    minFiles: z.number().int(),
    distinct: z.number().int().min(0),
    removed: z.number().int().min(0),
    /** The most repeated ones, as text (shortened) and the number of files that had each. */
    examples: z.array(z.object({ text: z.string(), files: z.number().int() })),
  }),
  quality: QualityReportSchema,
  /** Every skipped file with its reason, then skipped records (capped; the counts are complete). */
  skippedFiles: z.array(SkippedItemSchema),
  skippedRecords: z.array(SkippedItemSchema),
  generator: GeneratorReportSchema.optional(),
  warnings: z.array(z.string()),
});
export type Manifest = z.infer<typeof ManifestSchema>;

/** What the workflow returns: small and serializable; the manifest at `manifestUri` has the details. */
export interface PrepareDataResult {
  datasetHash: string;
  /** The content-addressed prefix, `s3://<bucket>/<prefix>datasets/<hash>/`. */
  datasetUri: string;
  trainUri: string;
  testUri: string;
  manifestUri: string;
  /** True when a dataset with this hash already existed and nothing was written. */
  reused: boolean;
  counts: Pick<
    Manifest['counts'],
    | 'filesRead'
    | 'filesSkipped'
    | 'documents'
    | 'exactDuplicates'
    | 'nearDuplicates'
    | 'containedDuplicates'
    | 'repeatedParagraphsRemoved'
    | 'boilerplateBlocksRemoved'
    | 'trainRecords'
    | 'testRecords'
  >;
  tokens: Pick<TokenStats, 'total' | 'mean' | 'max'>;
  quality: QualityReport;
  /** What a person should know before training on it, such as "the test split is empty" (absent in results of older runs). */
  warnings?: string[];
}

/** Heartbeat details of the data activities: what the CLI and the Web UI show as progress. */
export interface PrepareDataProgress {
  phase: 'fingerprint' | 'process' | 'upload' | 'done' | 'waiting';
  /** Phase `waiting`: the workflow that builds this dataset for another run, which this run waits for. */
  building?: string;
  datasetHash?: string;
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  documents?: number;
  duplicates?: number;
  records?: number;
  /** The build took up where an earlier attempt's checkpoint left it: this many files were done by then. */
  resumedFrom?: number;
}

/** Waiting for a dataset another run builds: its manifest is looked for until it appears or the time is up. */
export interface DatasetWait {
  datasetHash: string;
  /** The build's workflow id, shown in this run's progress. */
  building: string;
  forAtMostMs: number;
}

/** What a wait found: the dataset (`reused`), or nothing yet. */
export interface DatasetWaitResult {
  dataset?: PrepareDataResult;
}

/** What planning found: the hash of the would-be dataset and, when it already exists, its result. */
export interface DatasetPlan {
  datasetHash: string;
  files: number;
  bytes: number;
  existing?: PrepareDataResult;
}

export function resultFromManifest(manifest: Manifest, manifestUri: string, reused: boolean): PrepareDataResult {
  const datasetUri = manifestUri.slice(0, manifestUri.length - 'manifest.json'.length);
  const { counts, tokens } = manifest;
  return {
    datasetHash: manifest.datasetHash,
    datasetUri,
    trainUri: manifest.files.train.uri,
    testUri: manifest.files.test.uri,
    manifestUri,
    reused,
    counts: {
      filesRead: counts.filesRead,
      filesSkipped: counts.filesSkipped,
      documents: counts.documents,
      exactDuplicates: counts.exactDuplicates,
      nearDuplicates: counts.nearDuplicates,
      containedDuplicates: counts.containedDuplicates,
      repeatedParagraphsRemoved: counts.repeatedParagraphsRemoved,
      boilerplateBlocksRemoved: counts.boilerplateBlocksRemoved,
      trainRecords: counts.trainRecords,
      testRecords: counts.testRecords,
    },
    tokens: { total: tokens.total, mean: tokens.mean, max: tokens.max },
    quality: manifest.quality,
    warnings: manifest.warnings,
  };
}

function isValidRegex(source: string): boolean {
  try {
    new RegExp(source, 'i');
    return true;
  } catch {
    return false;
  }
}

/** The workflow's signature: what clients start by type name (the CLI never imports workflow code). */
export type PrepareDataWorkflow = (input: PrepareDataInput) => Promise<PrepareDataResult>;
export type DatasetBuildWorkflow = (request: BuildDatasetRequest) => Promise<PrepareDataResult>;
