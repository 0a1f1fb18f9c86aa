import { join } from 'node:path';
import { PROJECT_ROOT } from '../../platform/paths';
import { packCode, type PackedCode } from '../fine-tune/training-code';

/**
 * The evaluation job's code: jobs/evaluate and the training job's package beside it (the two share
 * reading pairs, chat templates and model loading rather than copying them), packed from jobs/ so the
 * archive holds `evaluate/evaluate.py` and `train/llmtwin_train/`, which evaluate.py finds there.
 */
export const EVALUATION_ENTRY_POINT = 'evaluate/evaluate.py';

export function packEvaluationCode(jobsDir: string = join(PROJECT_ROOT, 'jobs')): Promise<PackedCode> {
  return packCode(jobsDir, ['evaluate', 'train/llmtwin_train'], EVALUATION_ENTRY_POINT);
}
