import type { ServedConfig } from '../../common/deploy/plan';
import type { SageMakerSender } from '../aws/clients';
import { sageMakerUpdater, type EndpointUpdater } from './endpoint';

/**
 * The deploy stage's compute port. On SageMaker the endpoint's own containers serve it and SageMaker's
 * status says when they answer; locally the embedded SageMaker (moto) records the endpoint and a local
 * server (jobs/serve, a local job) serves it. The create-or-update logic above is one piece of code.
 */
export interface ServingCompute {
  readonly backend: 'sagemaker' | 'local';
  /** Before the endpoint points at the plan's config: start what will serve it (local: its server). */
  prepare(served: ServedConfig): Promise<void>;
  /** Once SageMaker says InService: whether what serves the config answers (SageMaker's own status is the answer there), and where, when that is not SageMaker's runtime. */
  ready(configName: string): Promise<{ ready: true; url?: string } | { ready: false; failure?: string; detail: string }>;
  /** What serves a config no endpoint uses any more stops (local: its server; SageMaker stops its own fleet). */
  release(configName: string): Promise<void>;
  update: EndpointUpdater;
}

export function sageMakerServingCompute(sagemaker: SageMakerSender): ServingCompute {
  return {
    backend: 'sagemaker',
    prepare: () => Promise.resolve(),
    ready: () => Promise.resolve({ ready: true }),
    release: () => Promise.resolve(),
    update: sageMakerUpdater(sagemaker),
  };
}
