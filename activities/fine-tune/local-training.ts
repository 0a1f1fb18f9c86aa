import { join } from 'node:path';
import type { CreateTrainingJobCommandInput } from '@aws-sdk/client-sagemaker';
import trainingMetrics from '../../common/fine-tune/metrics.json';
import { jobFolder, type LocalJobSpec } from '../local/job-folder';
import { tagLocalJob, untagLocalJob } from '../local/job-tags';
import { launchLocalJob, localJobTags, readLocalJob, stopLocalJob, type LocalComputeOptions, type LocalJobView } from '../local/local-jobs';
import { localCpuCount, localGpuCount } from '../local/machine';
import type { TrainingCompute, TrainingJobDescription } from './training-compute';

/**
 * Training jobs as local processes under SageMaker's training container contract: the same request
 * becomes a job folder with the /opt/ml tree (hyperparameters.json, resourceconfig.json,
 * inputdataconfig.json, input/data/<channel>/, model/, output/, checkpoints/, code/), the SM_* variables
 * the training toolkit sets, and model.tar.gz and output.tar.gz uploaded where SageMaker puts them. The
 * answers are DescribeTrainingJob's shape, so nothing above this file knows which backend ran.
 */

export interface LocalTrainingOptions extends LocalComputeOptions {
  region: string;
}

const HOST = 'algo-1';

export function localTrainingCompute(options: LocalTrainingOptions): TrainingCompute {
  return {
    backend: 'local',
    describe(jobName) {
      // Inside then(): a folder it cannot read becomes a rejection, as a failed DescribeTrainingJob would.
      return Promise.resolve().then(() => {
        const view = readLocalJob(options.jobsDir, jobName);
        return view ? describeAsSageMaker(jobName, view, options.region) : undefined;
      });
    },
    async create(request) {
      return launchLocalJob(options.jobsDir, localTrainingSpec(request, options), request.Environment ?? {});
    },
    stop(jobName) {
      stopLocalJob(options.jobsDir, jobName);
      return Promise.resolve();
    },
    logLocation: (jobName) => jobFolder(options.jobsDir, jobName).log,
    consoleUrl: () => undefined,
    tags: (jobName) => localJobTags(options.jobsDir, jobName),
    tag(jobName, tags) {
      return Promise.resolve().then(() => tagLocalJob(options.jobsDir, jobName, tags));
    },
    untag(jobName, keys) {
      return Promise.resolve().then(() => untagLocalJob(options.jobsDir, jobName, keys));
    },
  };
}

/**
 * The job folder's contents and the program's environment, from the CreateTrainingJob request. Its
 * Environment (a Hugging Face token) is left out: only the names are kept, the values travel in the
 * supervisor's own environment.
 */
export function localTrainingSpec(withSecrets: CreateTrainingJobCommandInput, options: LocalTrainingOptions): LocalJobSpec {
  const { Environment, ...request } = withSecrets;
  const name = request.TrainingJobName as string;
  const ml = jobFolder(options.jobsDir, name).ml;
  const hyperparameters = request.HyperParameters ?? {};
  const decoded: Record<string, unknown> = Object.fromEntries(
    Object.entries(hyperparameters).map(([key, value]) => [key, jsonOrText(value)]),
  );
  const program = textOf(decoded.sagemaker_program, 'train.py');
  const codeUri = textOf(decoded.sagemaker_submit_directory, '');
  const channels = (request.InputDataConfig ?? []).map((channel) => channel.ChannelName as string);
  const instanceType = request.ResourceConfig?.InstanceType ?? 'local';
  const gpus = localGpuCount();
  const userHyperparameters = Object.fromEntries(Object.entries(decoded).filter(([key]) => !key.startsWith('sagemaker_')));
  const resourceConfig = {
    current_host: HOST,
    current_instance_type: instanceType,
    current_group_name: 'homogeneousCluster',
    hosts: [HOST],
    instance_groups: [{ instance_group_name: 'homogeneousCluster', instance_type: instanceType, hosts: [HOST] }],
    network_interface_name: 'lo',
  };
  const inputDataConfig: Record<string, object> = Object.fromEntries(
    (request.InputDataConfig ?? []).map((channel): [string, object] => [
      channel.ChannelName as string,
      { ContentType: channel.ContentType, TrainingInputMode: 'File', S3DistributionType: 'FullyReplicated', RecordWrapperType: 'None' },
    ]),
  );
  const path = (relative: string) => join(ml, relative);
  const env: Record<string, string> = {
    SM_MODEL_DIR: path('model'),
    SM_OUTPUT_DIR: path('output'),
    SM_OUTPUT_DATA_DIR: path('output/data'),
    SM_INPUT_DIR: path('input'),
    SM_INPUT_CONFIG_DIR: path('input/config'),
    SM_CHANNELS: JSON.stringify(channels),
    ...Object.fromEntries(channels.map((channel) => [`SM_CHANNEL_${channel.toUpperCase()}`, path(`input/data/${channel}`)])),
    SM_HPS: JSON.stringify(userHyperparameters),
    ...Object.fromEntries(Object.entries(userHyperparameters).map(([key, value]) => [`SM_HP_${key.toUpperCase()}`, textOf(value, '')])),
    SM_HOSTS: JSON.stringify([HOST]),
    SM_CURRENT_HOST: HOST,
    SM_CURRENT_INSTANCE_TYPE: instanceType,
    SM_NUM_GPUS: String(gpus),
    SM_NUM_CPUS: String(localCpuCount()),
    SM_MODULE_DIR: codeUri,
    SM_USER_ENTRY_POINT: program,
    SM_LOG_LEVEL: textOf(decoded.sagemaker_container_log_level, '20'),
    SM_RESOURCE_CONFIG: JSON.stringify(resourceConfig),
    SM_INPUT_DATA_CONFIG: JSON.stringify(inputDataConfig),
    SM_TRAINING_ENV: JSON.stringify({
      job_name: name,
      channel_input_dirs: Object.fromEntries(channels.map((channel) => [channel, path(`input/data/${channel}`)])),
      hyperparameters: userHyperparameters,
      model_dir: path('model'),
      output_data_dir: path('output/data'),
      num_gpus: gpus,
      num_cpus: localCpuCount(),
      hosts: [HOST],
      current_host: HOST,
      user_entry_point: program,
      module_dir: codeUri,
    }),
    TRAINING_JOB_NAME: name,
    // CheckpointConfig.LocalPath inside the tree (jobs/train reads this; /opt/ml/checkpoints is SageMaker's).
    LLMTWIN_CHECKPOINT_DIR: path('checkpoints'),
    LLMTWIN_CACHE_DIR: options.cacheDir,
    PYTHONUNBUFFERED: '1',
    // Hugging Face's tokenizers fork warning is noise in a single-process job.
    TOKENIZERS_PARALLELISM: 'false',
  };
  const output = `${request.OutputDataConfig?.S3OutputPath?.replace(/\/*$/, '/')}${name}/output/`;
  const checkpointUri = request.CheckpointConfig?.S3Uri;
  const kmsKeyId = request.OutputDataConfig?.KmsKeyId;
  return {
    name,
    request,
    aws: options.aws,
    inputs: [
      ...(request.InputDataConfig ?? []).map((channel) => ({
        s3Uri: channel.DataSource?.S3DataSource?.S3Uri as string,
        dir: `input/data/${channel.ChannelName}`,
        unpack: false,
        optional: false,
      })),
      // SageMaker restores CheckpointConfig.S3Uri into the checkpoint folder before the program starts.
      ...(checkpointUri ? [{ s3Uri: checkpointUri, dir: 'checkpoints', unpack: false, optional: true }] : []),
      // Script mode: the toolkit unpacks sagemaker_submit_directory into the code folder and runs the program there.
      ...(codeUri ? [{ s3Uri: codeUri, dir: 'code', unpack: true, optional: false }] : []),
    ],
    files: [
      { path: 'input/config/hyperparameters.json', content: JSON.stringify(hyperparameters) },
      { path: 'input/config/resourceconfig.json', content: JSON.stringify(resourceConfig) },
      { path: 'input/config/inputdataconfig.json', content: JSON.stringify(inputDataConfig) },
    ],
    program: {
      command: options.python,
      args: [program],
      cwd: 'code',
      env,
      secretEnv: Object.keys(Environment ?? {}),
    },
    outputs: [
      { dir: 'model', s3Uri: `${output}model.tar.gz`, as: 'tar.gz', when: ['Completed', 'Stopped'] },
      { dir: 'output/data', s3Uri: `${output}output.tar.gz`, as: 'tar.gz', when: ['Completed', 'Stopped', 'Failed'] },
      ...(checkpointUri
        ? [{ dir: 'checkpoints', s3Uri: checkpointUri, as: 'files', when: ['Completed', 'Stopped', 'Failed'] } as const]
        : []),
    ].map((entry) => ({ ...entry, when: [...entry.when], ...(kmsKeyId ? { kmsKeyId } : {}) })) as LocalJobSpec['outputs'],
    metricDefinitions: (request.AlgorithmSpecification?.MetricDefinitions ?? []).map((definition) => ({
      Name: definition.Name as string,
      Regex: definition.Regex as string,
    })),
    progressRegex: trainingMetrics.progressRegex,
    maxRuntimeSeconds: request.StoppingCondition?.MaxRuntimeInSeconds ?? 86_400,
    stopGraceSeconds: options.stopGraceSeconds,
    createdAt: new Date().toISOString(),
  };
}

/** The local job's state in DescribeTrainingJob's words. */
export function describeAsSageMaker(jobName: string, view: LocalJobView, region: string): TrainingJobDescription {
  const { state } = view;
  const request = (view.spec?.request ?? {}) as CreateTrainingJobCommandInput;
  const date = (iso: string | undefined) => (iso ? new Date(iso) : undefined);
  const programSeconds =
    state.programStartedAt !== undefined
      ? Math.round(((state.programEndedAt ? Date.parse(state.programEndedAt) : Date.now()) - Date.parse(state.programStartedAt)) / 1000)
      : undefined;
  return {
    $metadata: {},
    TrainingJobName: jobName,
    TrainingJobArn: `arn:aws:sagemaker:${region}:local:training-job/${jobName}`,
    TrainingJobStatus: state.status,
    SecondaryStatus: state.phase as never,
    SecondaryStatusTransitions: state.transitions.map((transition) => ({
      Status: transition.phase as never,
      StartTime: new Date(transition.startTime),
      ...(transition.endTime ? { EndTime: new Date(transition.endTime) } : {}),
      StatusMessage: transition.message,
    })),
    ...(state.failureReason ? { FailureReason: state.failureReason } : {}),
    // Only what was really uploaded: an empty model folder leaves a job that completed without artifacts.
    ModelArtifacts: { S3ModelArtifacts: state.uploaded.model as string },
    ...(request.HyperParameters ? { HyperParameters: request.HyperParameters } : {}),
    ...(request.AlgorithmSpecification ? { AlgorithmSpecification: request.AlgorithmSpecification } : {}),
    ...(request.ResourceConfig ? { ResourceConfig: request.ResourceConfig } : {}),
    ...(request.InputDataConfig ? { InputDataConfig: request.InputDataConfig } : {}),
    ...(request.OutputDataConfig ? { OutputDataConfig: request.OutputDataConfig } : {}),
    ...(request.CheckpointConfig ? { CheckpointConfig: request.CheckpointConfig } : {}),
    StoppingCondition: request.StoppingCondition ?? {},
    EnableManagedSpotTraining: false,
    FinalMetricDataList: Object.entries(state.metrics).map(([MetricName, Value]) => ({ MetricName, Value, Timestamp: new Date() })),
    CreationTime: date(view.spec?.createdAt ?? state.startedAt),
    TrainingStartTime: date(state.programStartedAt),
    TrainingEndTime: date(state.programEndedAt),
    LastModifiedTime: date(state.endedAt ?? state.transitions.at(-1)?.startTime),
    // Wall seconds of the program: what a local job costs in time. Nothing is billed.
    ...(programSeconds !== undefined ? { TrainingTimeInSeconds: programSeconds } : {}),
    ...(state.progress ? { Progress: state.progress } : {}),
    FirstMetrics: state.firstMetrics,
  };
}

/** A decoded hyperparameter as the toolkit's SM_HP_* variables carry it: strings as they are, the rest as JSON. */
function textOf(value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function jsonOrText(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}
