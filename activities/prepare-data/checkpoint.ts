import { z } from 'zod';
import { SkippedItemSchema } from '../../common/prepare-data/contract';
import { readJsonIfExists, writeJsonAtomically } from '../local/job-folder';

/**
 * How far the first pass of a build got, kept beside its staged documents in the scratch folder: a
 * retry of the same activity on the same data worker (after a SIGKILL, a crash, a transient error)
 * cuts the staged file back to `stagedBytes`, registers the documents staged before it again (reading
 * them back is far cheaper than fetching, parsing and cleaning them) and goes on with file `filesDone`
 * of the listing. The dataset is the same, byte for byte, as an uninterrupted build's.
 *
 * Written with the staged file flushed first, then renamed into place: after a process dies, a
 * checkpoint never names more staged bytes than the file holds. (Nothing is fsynced: after the machine
 * itself goes down, staged bytes that do not read back make the retry start over.)
 */

const FingerprintSchema = z.strictObject({ path: z.string(), size: z.number().int().min(0), digest: z.string() });

export const ProcessCheckpointSchema = z.strictObject({
  /** The dataset being built: a checkpoint of another build (another source, changed settings) is never used. */
  datasetHash: z.string(),
  /** Files of the listing done, in listing order; their paths, in order, are `fingerprints`' paths. */
  filesDone: z.number().int().min(0),
  bytesDone: z.number().int().min(0),
  stagedBytes: z.number().int().min(0),
  /** Fingerprints and skips of the listed files done (those the listing itself skipped are not here). */
  fingerprints: z.array(FingerprintSchema),
  skippedFiles: z.array(SkippedItemSchema.strict()),
  skippedRecords: z.array(SkippedItemSchema.strict()),
  skippedRecordCount: z.number().int().min(0),
  filesRead: z.number().int().min(0),
  bytesRead: z.number().int().min(0),
  documents: z.number().int().min(0),
  emptyDocuments: z.number().int().min(0),
});

export type ProcessCheckpoint = z.infer<typeof ProcessCheckpointSchema>;

export function writeCheckpoint(path: string, checkpoint: ProcessCheckpoint): void {
  writeJsonAtomically(path, checkpoint);
}

/** The checkpoint at `path` if there is one for this dataset; anything else (none, unreadable, another build's) is none. */
export function readCheckpoint(path: string, datasetHash: string): ProcessCheckpoint | undefined {
  try {
    const checkpoint = readJsonIfExists(path, ProcessCheckpointSchema);
    return checkpoint?.datasetHash === datasetHash ? checkpoint : undefined;
  } catch {
    // Half a file, or one this release does not read: the build starts over.
    return undefined;
  }
}
