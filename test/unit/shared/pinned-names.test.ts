import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeDatasetHash } from '../../../activities/prepare-data/fingerprint';
import { fingerprintSource } from '../../../activities/prepare-data/process';
import { localSource } from '../../../activities/prepare-data/source';
import { packTrainingCode } from '../../../activities/fine-tune/training-code';
import { PrepareDataInputSchema } from '../../../common/prepare-data/contract';
import { HyperparametersSchema, trainingJobName } from '../../../common/fine-tune/contract';
import { PROJECT_ROOT } from '../../../scripts/dev-stack/stack';
import { samplePlan } from '../../helpers/fake-training-jobs';

/**
 * Names that must never change by accident. A dataset hash names the dataset's S3 prefix (a changed
 * hash rebuilds every dataset); a training job name is how a retried or resumed run finds its job (a
 * changed name loses track of running jobs and retrains completed ones). These values were produced by
 * the code before the stage re-seat; a change that alters one on purpose bumps DATASET_CODE_VERSION or
 * says so in its commit, and updates the value here. The dataset hashes changed on purpose with
 * prepare-data/3 (parsed structure, new cleaning, paragraph dedup, new settings in the hash); the job
 * names and the training code hash did not.
 */
describe('pinned names', () => {
  it('the sample corpus keeps the dataset hash the README shows', async () => {
    const settings = PrepareDataInputSchema.parse({
      source: { kind: 'local', path: join(PROJECT_ROOT, 'examples', 'corpus') },
      author: { name: 'Wren Castellanos', handle: 'saltandsolder' },
    });
    const scratch = mkdtempSync(join(tmpdir(), 'llmtwin-pin-'));
    try {
      const source = localSource(settings.source.kind === 'local' ? settings.source.path : '', settings);
      const listing = await source.list();
      const hash = computeDatasetHash(settings, await fingerprintSource(source, listing, scratch), null);
      expect(hash).toBe('9c3a57f24eda1e487460fa2492cd6f1e22ddb06278995b1fa80fcafc88fa470c');
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('dataset hashes of fixed settings and fingerprints stay the same', () => {
    const files = [
      { path: 'b.md', size: 10, digest: 'bbbb' },
      { path: 'a.txt', size: 3, digest: 'aaaa' },
      { path: 'skipped.png', size: 7, digest: '' },
    ];
    const defaults = PrepareDataInputSchema.parse({ source: { kind: 's3', uri: 's3://bucket/writing/' } });
    const tuned = PrepareDataInputSchema.parse({
      source: { kind: 'local', path: '/elsewhere' },
      author: { name: 'Ada' },
      formats: { include: ['markdown', 'jsonl'], json: { textField: 'body', recordsField: 'posts' } },
      clean: { boilerplatePatterns: ['^Subscribe'] },
      dedup: { threshold: 0.9, near: false },
      chunk: { maxTokens: 512, overlapTokens: 64 },
      instruct: { mode: 'generator' },
      split: { testRatio: 0.2, seed: 'other' },
    });
    const generator = { model: 'gpt-4o-mini', baseUrl: 'https://api.example.com/v1', temperature: 0.3, promptVersion: 'v1' };
    expect(computeDatasetHash(defaults, files, null)).toBe('df37d096447a7c600b9c3bf6e8ac993fcb5e9b4e7d4a30825c328a0d65da7c8b');
    expect(computeDatasetHash(tuned, files, generator)).toBe('da1f59df93243ab03c231c736ad35fe02e470e6b1e878d41c73a3fa75bf0e418');
    expect(computeDatasetHash(defaults, [], null)).toBe('b4ea196c478d31f8f7a5c2797ec0e573eb7e7f20a8561ba088386e6693b14d44');
  });

  it('the training code keeps its hash (it joins every training job name: any byte of jobs/train changes it)', async () => {
    expect((await packTrainingCode()).sha256).toBe('8d64db244df88bbc896324478885f4c96fadac13e9bb09c49b9610799ebcabae');
  });

  it('training job names of fixed plans stay the same', () => {
    const plan = samplePlan();
    expect(trainingJobName(plan, 'ml.g5.2xlarge')).toBe('llmtwin-train-ffffffffffff-g5-2xlarge-0vb6ngmanvtyz-17ql5td9st');
    expect(trainingJobName(plan, 'ml.g5.4xlarge')).toBe('llmtwin-train-ffffffffffff-g5-4xlarge-3tmm37im23f29-0hk6gvitid');
    expect(trainingJobName(samplePlan({ force: true }), 'ml.g5.2xlarge', 'run-123')).toBe(
      'llmtwin-train-ffffffffffff-g5-2xlarge-0vb6ngmanvtyz-14fw3ld4wj',
    );
    const tuned = samplePlan({
      hyperparameters: HyperparametersSchema.parse({ epochs: 2, lora: { targetModules: ['q_proj', 'v_proj'] }, systemPrompt: 'Be terse.' }),
      spot: { enabled: true, maxWaitSeconds: 90_000, checkpointS3Uri: 's3://b/ckpt/' },
      instanceCount: 1,
      volumeSizeGb: 200,
    });
    expect(trainingJobName(tuned, 'ml.p4d.24xlarge')).toBe('llmtwin-train-ffffffffffff-p4d-24xlarge-2p7nfv9vlo0d-2yul9jtugu');
  });
});
