import { existsSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';

/** What the local machine offers a job, as SageMaker's SM_NUM_GPUS and SM_NUM_CPUS describe an instance. */

/** NVIDIA GPUs the driver reports (/proc/driver/nvidia/gpus has one folder per GPU); 0 without a driver. */
export function localGpuCount(): number {
  const dir = '/proc/driver/nvidia/gpus';
  if (!existsSync(dir)) return 0;
  try {
    return readdirSync(dir).length;
  } catch {
    return 0;
  }
}

export function localCpuCount(): number {
  return cpus().length;
}
