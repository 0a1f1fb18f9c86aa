import { PrepareDataInputSchema } from '../../common/prepare-data/contract';
import { templateInstructor } from '../../activities/prepare-data/generator';
import { processSource, type ProcessOutcome, type ProcessRequest } from '../../activities/prepare-data/process';
import { localSource } from '../../activities/prepare-data/source';

/** prepare-data's imperative shell on a local folder, as the activity runs it (less the upload), with template instructions unless told. */
export async function processFolder(
  root: string,
  input: object,
  scratchDir: string,
  options: Pick<ProcessRequest, 'threads' | 'helperMinBytes'> & { instructor?: ProcessRequest['instructor'] } = {},
): Promise<ProcessOutcome> {
  const settings = PrepareDataInputSchema.parse({ source: { kind: 'local', path: root }, ...input });
  const source = localSource(root, settings);
  return processSource({ settings, source, listing: await source.list(), scratchDir, instructor: templateInstructor, ...options });
}
