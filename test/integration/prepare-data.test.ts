import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { RetryState } from '@temporalio/common';
import { ensureBucket } from '../../activities/aws/s3';
import {
  DatasetRecordSchema,
  ManifestSchema,
  type DatasetRecord,
  type Manifest,
  PREPARE_DATA_WORKFLOW_TYPE,
  type PrepareDataInput,
  type PrepareDataResult,
  type PrepareDataWorkflow,
} from '../../common/prepare-data/contract';
import { ERROR_TYPES } from '../../common/shared/errors';
import { FenceTracker, markdownBlocks } from '../../common/prepare-data/text/blocks';
import { blockHash, isSubstantial } from '../../activities/prepare-data/documents';
import { cleanMarkdown } from '../helpers/text';
import { testConfig } from '../helpers/stack';
import { cliEnv, runCli } from '../helpers/cli';
import { useStackWorkers } from '../helpers/stack-workers';
import { uniqueId } from '../helpers/temporal';

// The prepareData workflow on the real dev server, with control and data workers built as
// workers/main.ts builds them, writing to moto's S3. The S3 client counts every write it sends, so
// "uploads nothing again" is observed, not assumed.

const CORPUS = join(__dirname, '../../examples/corpus');
const CODE_CORPUS = join(__dirname, '../fixtures/code-corpus');
const WRITES = new Set([
  'PutObjectCommand',
  'CreateMultipartUploadCommand',
  'UploadPartCommand',
  'CompleteMultipartUploadCommand',
  'CopyObjectCommand',
]);

const config = testConfig();
const bucket = config.s3.bucket;
let writes: string[] = [];
const stack = useStackWorkers({
  roles: ['control', 'data'],
  config: () => config,
  beforeStart: (aws) =>
    aws.s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (WRITES.has(context.commandName ?? '')) writes.push(`${context.commandName} ${(args.input as { Key?: string }).Key ?? ''}`);
        return next(args);
      },
      { step: 'initialize', name: 'countWrites' },
    ),
});
function run(input: PrepareDataInput): Promise<PrepareDataResult> {
  return stack.client.workflow.execute<PrepareDataWorkflow>(PREPARE_DATA_WORKFLOW_TYPE, {
    taskQueue: stack.queues.control,
    workflowId: uniqueId('prepare-data'),
    args: [input],
  });
}

async function getText(key: string): Promise<string> {
  const object = await stack.aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return object.Body!.transformToString('utf-8');
}

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await stack.aws.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((object) => object.Key!.slice(prefix.length)).sort();
}

async function objectStamps(keys: string[]) {
  return Promise.all(
    keys.map(async (key) => {
      const head = await stack.aws.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { key, etag: head.ETag, lastModified: head.LastModified?.toISOString() };
    }),
  );
}

/** Runs ./llmtwin against this test stack (the environment testConfig() resolved). */
const llmtwin = (args: string[]) => runCli(args, cliEnv(config));

function fencesBalanced(text: string): boolean {
  const fences = new FenceTracker();
  for (const line of text.split('\n')) fences.push(line);
  return !fences.inside;
}

function filesOf(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const path = join(root, name);
    return statSync(path).isDirectory() ? filesOf(path) : [path];
  });
}

describe('prepareData on the real dev server and moto', () => {
  // The Web UI example, every default spelled out; only the folder is made absolute for the test worker.
  const example = JSON.parse(readFileSync(join(__dirname, '../../examples/prepare-data.json'), 'utf8')) as PrepareDataInput;
  const input: PrepareDataInput = { ...example, source: { kind: 'local', path: CORPUS } };
  let first: PrepareDataResult;

  it('turns a local folder into train.jsonl, test.jsonl and manifest.json under datasets/<hash>/', async () => {
    writes = [];
    first = await run(input);

    const prefix = `llmtwin/datasets/${first.datasetHash}/`;
    expect(first).toMatchObject({
      reused: false,
      datasetUri: `s3://${bucket}/${prefix}`,
      manifestUri: `s3://${bucket}/${prefix}manifest.json`,
    });
    expect(await keysUnder(prefix)).toEqual(['manifest.json', 'test.jsonl', 'train.jsonl']);

    const manifest = ManifestSchema.parse(JSON.parse(await getText(`${prefix}manifest.json`)));
    expect(manifest.datasetHash).toBe(first.datasetHash);
    for (const [name, entry] of [
      ['train.jsonl', manifest.files.train],
      ['test.jsonl', manifest.files.test],
    ] as const) {
      const body = await getText(`${prefix}${name}`);
      expect(createHash('sha256').update(body).digest('hex')).toBe(entry.sha256);
      expect(body.trimEnd().split('\n')).toHaveLength(entry.records);
      for (const line of body.trimEnd().split('\n')) DatasetRecordSchema.parse(JSON.parse(line));
    }
    // Sane counts for a few dozen posts: most files read, the broken ones skipped with a reason, the
    // planted copies caught, a train/test split of roughly 9:1.
    expect(manifest.counts.filesRead).toBeGreaterThanOrEqual(25);
    expect(manifest.skippedFiles.map((item) => item.source)).toEqual(
      expect.arrayContaining(['images/workbench.png', 'misc/workbench-photo.md', 'old/letter-to-grandad-latin1.txt']),
    );
    expect(manifest.counts.exactDuplicates + manifest.counts.nearDuplicates).toBeGreaterThanOrEqual(2);
    expect(manifest.counts.trainRecords).toBeGreaterThan(manifest.counts.testRecords);
    expect(manifest.counts.testRecords).toBeGreaterThan(0);
    expect(first.counts).toMatchObject({ trainRecords: manifest.counts.trainRecords, testRecords: manifest.counts.testRecords });
    expect(manifest.tokens.max).toBeLessThanOrEqual(1024);
    expect(manifest.config).toMatchObject({
      author: { name: 'Wren Castellanos', handle: 'saltandsolder' },
      dedup: { threshold: 0.8 },
      chunk: { maxTokens: 1024 },
    });
    // Data first, manifest last: a manifest always means a complete dataset.
    expect(writes.map((write) => write.split(' ')[1]?.split('/').pop())).toEqual(['train.jsonl', 'test.jsonl', 'manifest.json']);
  });

  it('reruns to the same hash and uploads nothing again', async () => {
    const prefix = `llmtwin/datasets/${first.datasetHash}/`;
    const keys = ['manifest.json', 'test.jsonl', 'train.jsonl'].map((name) => `${prefix}${name}`);
    const before = await objectStamps(keys);
    writes = [];

    const again = await run(input);

    expect(again).toEqual({ ...first, reused: true });
    expect(writes).toEqual([]);
    expect(await objectStamps(keys)).toEqual(before);
  });

  it('llmtwin prepare-data: the CLI starts the same workflow and prints where the dataset is', async () => {
    writes = [];
    // Asynchronously: the workers run in this process and must keep polling while the CLI waits.
    const cli = await llmtwin(['prepare-data', '--source', CORPUS, '--author', 'Wren Castellanos', '--handle', 'saltandsolder', '--json']);
    expect(cli.stderr).toMatch(/started prepare-data-\d+/);
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toEqual({ ...first, reused: true });
    expect(writes).toEqual([]);
    // For people: where it landed and what is in it.
    const human = await llmtwin(['prepare-data', '--input', join(__dirname, '../../examples/prepare-data.json'), '--source', CORPUS]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`location   ${first.datasetUri}`);
    expect(human.stdout).toContain(`train      ${first.trainUri}  (${first.counts.trainRecords} pairs)`);
    expect(human.stdout).toMatch(/dataset {4}[0-9a-f]{64} {2}\(already there: nothing uploaded\)/);
    // And the flags are checked before anything starts.
    const bad = await llmtwin(['prepare-data', '--source', CORPUS, '--chunk-tokens', '100', '--overlap-tokens', '100']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /invalid prepare-data input: chunk\.overlapTokens \(--overlap-tokens\): must be smaller than chunk\.maxTokens \(100\)/,
    );
  });

  it('reads the same writing from an S3 prefix: same content, same dataset', async () => {
    await ensureBucket(stack.aws.s3, bucket, config.aws.region);
    for (const path of filesOf(CORPUS)) {
      await stack.aws.s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: `writing/${relative(CORPUS, path).split('\\').join('/')}`, Body: readFileSync(path) }),
      );
    }
    writes = [];

    // Single-part ETags are MD5s, and the location is not part of the hash: the upload is recognised.
    const fromS3 = await run({ ...input, source: { kind: 's3', uri: `s3://${bucket}/writing/` } });
    expect(fromS3).toEqual({ ...first, reused: true });
    expect(writes).toEqual([]);

    // Other settings make another dataset, built by downloading and reading every object.
    const rebuilt = await run({ ...input, source: { kind: 's3', uri: `s3://${bucket}/writing/` }, split: { seed: 'another' } });
    expect(rebuilt.reused).toBe(false);
    expect(rebuilt.datasetHash).not.toBe(first.datasetHash);
    expect(rebuilt.counts).toMatchObject({
      filesRead: first.counts.filesRead,
      filesSkipped: first.counts.filesSkipped,
      documents: first.counts.documents,
    });
    expect(rebuilt.counts.trainRecords + rebuilt.counts.testRecords).toBe(first.counts.trainRecords + first.counts.testRecords);
    const manifest = ManifestSchema.parse(JSON.parse(await getText(`llmtwin/datasets/${rebuilt.datasetHash}/manifest.json`)));
    expect(manifest.source).toMatchObject({ kind: 's3', location: `s3://${bucket}/writing/` });
  });
});

describe('a code-heavy corpus: the published records meet the quality targets', () => {
  // READMEs with fences, `#` comments in shell snippets, tables, a long option list, a code block longer
  // than a chunk, badges, banners, a sponsor block in most files, an edited copy whose name sorts
  // before its original, and a JSONL export of one README (test/fixtures/code-corpus).
  const input: PrepareDataInput = {
    source: { kind: 'local', path: CODE_CORPUS },
    author: { name: 'Wren Castellanos' },
    chunk: { maxTokens: 256, overlapTokens: 32, minTokens: 16 },
    split: { testRatio: 0.3 },
  };
  let manifest: Manifest;
  let records: Array<DatasetRecord & { split: string }>;

  beforeAll(async () => {
    const result = await run(input);
    const prefix = `llmtwin/datasets/${result.datasetHash}/`;
    manifest = ManifestSchema.parse(JSON.parse(await getText(`${prefix}manifest.json`)));
    records = [];
    for (const split of ['train', 'test']) {
      for (const line of (await getText(`${prefix}${split}.jsonl`)).split('\n').filter(Boolean))
        records.push({ split, ...DatasetRecordSchema.parse(JSON.parse(line)) });
    }
  });

  it('balances every fence, and starts or ends inside a block only where a block was longer than a chunk', () => {
    expect(records.length).toBe(manifest.quality.records);
    expect(records.length).toBeGreaterThan(8);
    for (const record of records)
      expect({ source: record.source, balanced: fencesBalanced(record.output) }).toEqual({ source: record.source, balanced: true });
    expect(manifest.quality).toMatchObject({ balancedFencesShare: 1, recordsEndingOnHeading: 0, trainTestParagraphOverlap: 0 });
    // Two blocks of ky-lite's README (its option list and its router) are longer than a chunk: only
    // records of that README may start or end inside a block, and each code piece is a fence closed
    // and reopened with its language.
    expect(manifest.quality.blocksSplit).toBe(2);
    const pieces = records.filter((record) => record.source === 'ky-lite-readme.md');
    expect(manifest.quality.recordsStartingInsideBlock).toBeGreaterThan(0);
    expect(manifest.quality.recordsStartingInsideBlock).toBeLessThan(pieces.length);
    expect(manifest.quality.recordsEndingInsideBlock).toBe(manifest.quality.recordsStartingInsideBlock);
    for (const piece of pieces.filter((record) => record.output.includes("\t\tcase '")))
      expect(piece.output.startsWith('```js\n') || piece.output.includes('\n```js\n')).toBe(true);
    // Every other record is whole blocks of its cleaned source, byte for byte (indentation, tabs, blank lines in code).
    for (const record of records.filter((candidate) => candidate.source.endsWith('.md') && !pieces.includes(candidate))) {
      const source = cleanMarkdown(readFileSync(join(CODE_CORPUS, record.source.replace(/#.*$/, '')), 'utf8'));
      for (const block of markdownBlocks(record.output))
        expect({ source: record.source, whole: source.includes(block.text) }).toEqual({ source: record.source, whole: true });
    }
  });

  it('no paragraph of test is in train, counted on the published records', () => {
    const paragraphs = (split: string) =>
      new Set(
        records
          .filter((record) => record.split === split)
          .flatMap((record) =>
            markdownBlocks(record.output)
              .filter((block) => isSubstantial(block))
              .map((block) => blockHash(block)),
          ),
      );
    const train = paragraphs('train');
    expect(paragraphs('test').size).toBeGreaterThan(0);
    expect([...paragraphs('test')].filter((hash) => train.has(hash))).toEqual([]);
  });

  it('publishes no badges, banners, link husks, raw HTML or boilerplate, and reports what it removed', () => {
    const published = records.map((record) => record.output).join('\n');
    for (const noise of ['[](', '](http', 'shields.io', '<img', '<picture', '<p align', 'sponsored by Harbour Cloud', '## Sponsors'])
      expect({ noise, found: published.includes(noise) }).toEqual({ noise, found: false });
    expect(manifest.boilerplate.examples[0]).toMatchObject({ text: expect.stringContaining('sponsored by Harbour Cloud') as string });
    expect(manifest.boilerplate.examples[0]!.files).toBeGreaterThanOrEqual(5);
    expect(manifest.counts.boilerplateBlocksRemoved).toBeGreaterThanOrEqual(5);
  });

  it('keeps the original README over its edited copy, and finds the JSONL export contained in it, naming both files', () => {
    expect(manifest.dedup.keep).toBe('original');
    expect(manifest.dedup.pairs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          source: 'tidewatch-readme-edited.md',
          duplicateOf: 'tidewatch-readme.md',
          kind: 'near',
          rule: 'original: the other is named as a copy',
        }),
        expect.objectContaining({ source: 'tidewatch-export.jsonl#L1', duplicateOf: 'tidewatch-readme.md', kind: 'contained' }),
      ]),
    );
    const published = records.map((record) => record.output).join('\n');
    expect(published).toContain('followSymlinks');
    expect(published).not.toContain('turbo');
    expect(records.some((record) => record.source.startsWith('tidewatch-export'))).toBe(false);
  });

  it('asks for READMEs as READMEs, with plain titles and topics that are words', () => {
    for (const record of records) {
      expect(record.title ?? '').not.toMatch(/[<>[\]()]/);
      expect(record.instruction).not.toMatch(/https?|github|\bconst\b|\bblog post\b/i);
    }
    const readmes = records.filter((record) => /readme|ky-lite|gull|pelican|harbour/.test(record.source));
    expect(readmes.filter((record) => /README|docs/.test(record.instruction)).length).toBeGreaterThanOrEqual(readmes.length - 1);
    expect(manifest.quality.genres.readme).toBeGreaterThanOrEqual(4);
  });

  it('llmtwin prepare-data --samples prints random pairs of the published dataset', async () => {
    // The settings the corpus was built with above, so the CLI finds that dataset.
    const sameDataset = [
      'prepare-data',
      '--source',
      CODE_CORPUS,
      '--chunk-tokens',
      '256',
      '--overlap-tokens',
      '32',
      '--test-ratio',
      '0.3',
      '--author',
      'Wren Castellanos',
    ];
    const cli = await llmtwin([...sameDataset, '--samples', '3', '--json']);
    expect(cli.code).toBe(0);
    const result = JSON.parse(cli.stdout) as PrepareDataResult & { samples: Array<DatasetRecord & { split: string }> };
    expect(result.reused).toBe(true);
    expect(result.samples).toHaveLength(3);
    const published = new Set(records.map((record) => JSON.stringify({ ...record })));
    for (const sample of result.samples) expect(published.has(JSON.stringify(sample))).toBe(true);
    const human = await llmtwin([...sameDataset, '--samples', '2']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/quality {4}100% of records with balanced code fences/);
    expect(human.stdout).toMatch(/sample 1\/2 {2}(train|test) {2}\S+/);
    expect(human.stdout).toMatch(/ {2}instruction: \S/);
    const refused = await llmtwin(['prepare-data', '--source', CODE_CORPUS, '--samples', '0']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--samples must be a whole number from 1 to 100/);
  });
});

describe('prepareData refuses bad input at once, naming the problem', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'llmtwin-it-bad-'));
    mkdirSync(join(dir, 'empty'));
    mkdirSync(join(dir, 'unusable'));
    writeFileSync(join(dir, 'unusable', 'letter.txt'), Buffer.from('Caf\xe9 au lait, ch\xe8re grand-m\xe8re.\n', 'latin1'));
    writeFileSync(join(dir, 'unusable', 'blank.md'), '\n\n   \n');
    mkdirSync(join(dir, 'images'));
    writeFileSync(join(dir, 'images', 'photo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The ApplicationFailure at the bottom of the chain, and whether an activity gave up without retrying. */
  async function failureOf(input: PrepareDataInput) {
    const error = await run(input).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    let cause: Error | undefined = (error as WorkflowFailedError).cause;
    const activity = cause instanceof ActivityFailure ? cause : undefined;
    while (cause && !(cause instanceof ApplicationFailure)) cause = cause.cause as Error | undefined;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    const failure = cause as ApplicationFailure;
    return {
      type: failure.type,
      nonRetryable: failure.nonRetryable,
      message: failure.message,
      retried: activity ? activity.retryState !== RetryState.NON_RETRYABLE_FAILURE : false,
    };
  }

  const validation = { type: ERROR_TYPES.validation, nonRetryable: true, retried: false };

  it.each<[string, () => PrepareDataInput, RegExp]>([
    [
      'a missing folder',
      () => ({ source: { kind: 'local', path: join(dir, 'nowhere') } }),
      /source\.path .*nowhere does not exist on the data worker/,
    ],
    ['an empty folder', () => ({ source: { kind: 'local', path: join(dir, 'empty') } }), /the source .*empty is empty/],
    [
      'a folder of images only',
      () => ({ source: { kind: 'local', path: join(dir, 'images') } }),
      /has no readable files: 1 skipped, e\.g\. photo\.png \(unsupported file type "\.png"/,
    ],
    [
      'files with no usable text',
      () => ({ source: { kind: 'local', path: join(dir, 'unusable') } }),
      /no usable text in .*letter\.txt: not valid UTF-8/,
    ],
    [
      'an empty S3 prefix',
      () => ({ source: { kind: 's3', uri: `s3://${bucket}/nothing-here/` } }),
      /the source s3:\/\/.*\/nothing-here\/ is empty/,
    ],
    [
      'a folder outside the roots the data worker may read',
      () => ({ source: { kind: 'local', path: '/etc' } }),
      /source\.path \/etc is outside the folders this data worker may read: .*sources\.localRoots \(LLMTWIN_SOURCE_ROOTS\)/,
    ],
    [
      'a `..` escape out of an allowed folder',
      () => ({ source: { kind: 'local', path: `${CORPUS}/../../../../../../../../etc` } }),
      /is outside the folders this data worker may read/,
    ],
    [
      'an S3 prefix in another bucket',
      () => ({ source: { kind: 's3', uri: 's3://someone-elses-bucket/writing/' } }),
      /source\.uri s3:\/\/someone-elses-bucket\/writing\/ is outside the bucket .*sources\.s3Allowed \(LLMTWIN_SOURCE_S3_ALLOW\)/,
    ],
    [
      'chunk size 0',
      () => ({ source: { kind: 'local', path: CORPUS }, chunk: { maxTokens: 0 } }),
      /invalid prepareData input: chunk\.maxTokens: must be a positive number of tokens/,
    ],
    [
      'a misspelt key, even nested (it was silently dropped before)',
      () => ({ source: { kind: 'local', path: CORPUS }, chunk: { maxToken: 64 } }),
      /invalid prepareData input: chunk\.maxToken: unknown key; did you mean "maxTokens"\?/,
    ],
    [
      'overlap not smaller than the chunk',
      () => ({ source: { kind: 'local', path: CORPUS }, chunk: { maxTokens: 100, overlapTokens: 100 } }),
      /chunk\.overlapTokens: must be smaller than chunk\.maxTokens \(100\)/,
    ],
  ])('%s', async (_name, input, message) => {
    await ensureBucket(stack.aws.s3, bucket, config.aws.region);
    const failure = await failureOf(input());
    expect(failure).toMatchObject(validation);
    expect(failure.message).toMatch(message);
  });
});
