// Every workflow the worker registers. The worker bundles this file.
export { healthCheckWorkflow } from './health.js';
