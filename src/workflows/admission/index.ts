export { userAdmissionWorkflow } from './workflow.js';
export type { UserAdmissionInput } from './workflow.js';
