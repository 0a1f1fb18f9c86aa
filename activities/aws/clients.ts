import type { SageMakerClient } from '@aws-sdk/client-sagemaker';

/** What the activities need of a SageMaker client: `send`, so tests can pass a mock or a scripted fake. */
export type SageMakerSender = Pick<SageMakerClient, 'send'>;
