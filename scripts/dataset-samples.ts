import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { DatasetRecordSchema, type DatasetRecord } from '../common/prepare-data/contract';
import { parseS3Uri } from '../common/shared/naming';
import type { S3Sender } from '../activities/aws/clients';
import { CliError, EXIT_CODES } from './cli-errors';

/**
 * `prepare-data --samples N`: N pairs drawn at random from the published train and test files, so a
 * person can judge the dataset before paying for a GPU. The files are streamed from S3 once each and
 * sampled as they pass (reservoir sampling), so a dataset of any size costs N records of memory.
 */

export interface DatasetSample extends DatasetRecord {
  split: 'train' | 'test';
}

export async function sampleDataset(
  s3: S3Sender,
  files: { train: string; test: string },
  count: number,
  random = Math.random,
): Promise<DatasetSample[]> {
  const reservoir: DatasetSample[] = [];
  let seen = 0;
  for (const split of ['train', 'test'] as const) {
    for await (const record of recordsAt(s3, files[split])) {
      seen += 1;
      const sample = { split, ...record };
      if (reservoir.length < count) reservoir.push(sample);
      else {
        const slot = Math.floor(random() * seen);
        if (slot < count) reservoir[slot] = sample;
      }
    }
  }
  return reservoir;
}

async function* recordsAt(s3: S3Sender, uri: string): AsyncGenerator<DatasetRecord> {
  const { bucket, key } = parseS3Uri(uri);
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const lines = createInterface({ input: object.Body as Readable, crlfDelay: Infinity });
  let number = 0;
  for await (const line of lines) {
    number += 1;
    if (line.trim() === '') continue;
    const parsed = DatasetRecordSchema.safeParse(safeJson(line));
    if (!parsed.success)
      throw new CliError(
        `${uri} line ${number} is not a dataset record: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
        EXIT_CODES.runFailed,
      );
    yield parsed.data;
  }
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}

const SHOWN_LINES = 24;

/** A sample for people: where it is from, the instruction, and the answer (long ones shortened). */
export function sampleLines(samples: readonly DatasetSample[]): string[] {
  return samples.flatMap((sample, index) => {
    const lines = sample.output.split('\n');
    const shown = lines.slice(0, SHOWN_LINES).map((line) => (line ? `    ${line}` : ''));
    if (lines.length > SHOWN_LINES) shown.push(`    … (${lines.length - SHOWN_LINES} more lines)`);
    return [
      '',
      `sample ${index + 1}/${samples.length}  ${sample.split}  ${sample.source}${sample.title ? `  "${sample.title}"` : ''}  ${sample.tokens} tokens`,
      `  instruction: ${sample.instruction}`,
      '  output:',
      ...shown,
    ];
  });
}
