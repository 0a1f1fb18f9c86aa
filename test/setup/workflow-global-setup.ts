import { bundleWorkflowsOnce } from './bundle-workflows';

export default async function workflowGlobalSetup(): Promise<void> {
  await bundleWorkflowsOnce();
}
