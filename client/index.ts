/** The typed client library: start and follow a twin's pipeline, and call the twin it serves. */
export { cancelPipeline, decideApproval, getProgress, InvalidPipelineInputError, listRuns, startPipeline } from './pipeline';
export type { PipelineRun, StartedPipeline } from './pipeline';
export { EndpointUnavailableError, invokeTwin, MalformedAnswerError, openTwin } from './invoke';
export type { ChatMessage, InvokeOptions, InvokeTwinOptions, TwinAnswer, TwinTarget } from './invoke';
export type { PipelineInput, PipelineProgress, PipelineResult } from '../common/pipeline/contract';
export { AesGcmPayloadCodec, dataConverterFor } from '../platform/payload-codec';
export { temporalConnectionOptions } from '../platform/temporal-client';
