// Every workflow the worker registers. The worker bundles this file.
export { conversationWorkflow } from './conversation.js';
export { healthCheckWorkflow } from './health.js';
export { userAdmissionWorkflow } from './admission/index.js';
export { sharedRuntimeWorkflow } from './shared-runtime/workflow.js';
export { batchWorkflow } from './batch/workflow.js';
