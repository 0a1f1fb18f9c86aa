import { join, posix } from 'node:path';
import type { CreateProcessingJobCommandInput, DescribeProcessingJobCommandOutput } from '@aws-sdk/client-sagemaker';
import { jobFolder, type LocalJobSpec } from '../local/job-folder';
import { launchLocalJob, localJobTags, readLocalJob, stopLocalJob, type LocalComputeOptions, type LocalJobView } from '../local/local-jobs';
import type { ProcessingCompute } from './processing-compute';

/**
 * Processing jobs as local processes under SageMaker's processing container contract: every
 * ProcessingInput's S3 data lands at its LocalPath, every ProcessingOutput's LocalPath is uploaded to its
 * S3Uri when the job completes, both under the job folder's `ml/processing/` instead of
 * `/opt/ml/processing/`. The input named `code` (the staged entry point, a tarball) is unpacked, which
 * the SageMaker job's container entrypoint does itself; the program is the entry point run in the jobs
 * venv, not the container's entrypoint.
 */

export interface LocalProcessingOptions extends LocalComputeOptions {
  /** The script the job runs from its code input (evaluate.py). */
  entryPoint: string;
}

const CONTAINER_ROOT = '/opt/ml/processing';

/** `/opt/ml/processing/input/model` -> `processing/input/model`: where it sits in the job folder's tree. */
function inTree(localPath: string | undefined, field: string): string {
  const path = posix.normalize(localPath ?? '');
  if (path !== CONTAINER_ROOT && !path.startsWith(`${CONTAINER_ROOT}/`)) {
    throw new Error(`${field} ${localPath ?? '(none)'} is not under ${CONTAINER_ROOT}, where processing jobs keep their data`);
  }
  return `processing${path.slice(CONTAINER_ROOT.length)}`;
}

export function localProcessingSpec(withSecrets: CreateProcessingJobCommandInput, options: LocalProcessingOptions): LocalJobSpec {
  const { Environment, ...request } = withSecrets;
  const name = request.ProcessingJobName as string;
  const ml = jobFolder(options.jobsDir, name).ml;
  const inputs = (request.ProcessingInputs ?? []).map((input, index) => ({
    s3Uri: input.S3Input?.S3Uri as string,
    dir: inTree(input.S3Input?.LocalPath, `ProcessingInputs.${index}.S3Input.LocalPath`),
    unpack: input.InputName === 'code',
    optional: false,
  }));
  const code = inputs.find((_, index) => request.ProcessingInputs?.[index]?.InputName === 'code');
  return {
    name,
    request,
    aws: options.aws,
    inputs,
    files: [],
    program: {
      command: options.python,
      args: [options.entryPoint],
      cwd: code?.dir ?? 'processing',
      env: {
        LLMTWIN_PROCESSING_DIR: join(ml, 'processing'),
        LLMTWIN_CACHE_DIR: options.cacheDir,
        PROCESSING_JOB_NAME: name,
        PYTHONUNBUFFERED: '1',
        TOKENIZERS_PARALLELISM: 'false',
      },
      // The request's Environment may hold a resolved secret (the judge's key): every value travels in the
      // supervisor's environment, only the names are written down.
      secretEnv: Object.keys(Environment ?? {}),
    },
    outputs: (request.ProcessingOutputConfig?.Outputs ?? []).map((output, index) => ({
      dir: inTree(output.S3Output?.LocalPath, `ProcessingOutputConfig.Outputs.${index}.S3Output.LocalPath`),
      s3Uri: output.S3Output?.S3Uri as string,
      as: 'files' as const,
      when: ['Completed' as const],
      ...(request.ProcessingOutputConfig?.KmsKeyId ? { kmsKeyId: request.ProcessingOutputConfig.KmsKeyId } : {}),
    })),
    metricDefinitions: [],
    maxRuntimeSeconds: request.StoppingCondition?.MaxRuntimeInSeconds ?? 86_400,
    stopGraceSeconds: options.stopGraceSeconds,
    createdAt: new Date().toISOString(),
  };
}

export function describeAsProcessingJob(jobName: string, view: LocalJobView): DescribeProcessingJobCommandOutput {
  const request = (view.spec?.request ?? {}) as CreateProcessingJobCommandInput;
  const { state } = view;
  const date = (iso: string | undefined) => (iso ? new Date(iso) : undefined);
  return {
    $metadata: {},
    ProcessingJobName: jobName,
    ProcessingJobArn: `arn:aws:sagemaker:local:local:processing-job/${jobName}`,
    ProcessingJobStatus: state.status,
    ...(state.failureReason ? { FailureReason: state.failureReason } : {}),
    ...(request.ProcessingInputs ? { ProcessingInputs: request.ProcessingInputs } : {}),
    ...(request.ProcessingOutputConfig ? { ProcessingOutputConfig: request.ProcessingOutputConfig } : {}),
    ProcessingResources: request.ProcessingResources ?? {
      ClusterConfig: { InstanceCount: 1, InstanceType: 'local' as never, VolumeSizeInGB: 1 },
    },
    AppSpecification: request.AppSpecification ?? { ImageUri: 'local' },
    ...(request.StoppingCondition ? { StoppingCondition: request.StoppingCondition } : {}),
    CreationTime: date(view.spec?.createdAt ?? state.startedAt),
    ProcessingStartTime: date(state.programStartedAt),
    ProcessingEndTime: date(state.programEndedAt),
    LastModifiedTime: date(state.endedAt ?? state.transitions.at(-1)?.startTime),
  };
}

export function localProcessingCompute(options: LocalProcessingOptions): ProcessingCompute {
  return {
    backend: 'local',
    describe(jobName) {
      // Inside then(): a folder it cannot read becomes a rejection, as a failed DescribeTrainingJob would.
      return Promise.resolve().then(() => {
        const view = readLocalJob(options.jobsDir, jobName);
        return view ? describeAsProcessingJob(jobName, view) : undefined;
      });
    },
    create(request) {
      return launchLocalJob(options.jobsDir, localProcessingSpec(request, options), request.Environment ?? {});
    },
    stop(jobName) {
      stopLocalJob(options.jobsDir, jobName);
      return Promise.resolve();
    },
    logLocation: (jobName) => jobFolder(options.jobsDir, jobName).log,
    consoleUrl: () => undefined,
    tags: (jobName) => localJobTags(options.jobsDir, jobName),
  };
}
