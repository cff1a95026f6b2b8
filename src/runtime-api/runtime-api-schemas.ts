// The Runtime API (control plane) contract, as zod schemas shared by RuntimeApiClient
// and the local Runtime API server. Field names follow the OpenHands Remote Runtime
// clients exactly (../shared/reference/openhands-contract.md §1). Response schemas are
// lenient about extra fields because a hosted Runtime API sends more than we read.
import { z } from 'zod';

/** Session-level status; the hosted API also reports `error` and `starting`. */
export const sessionStatusSchema = z.enum(['running', 'paused', 'stopped', 'starting', 'error']);
export type SessionStatus = z.infer<typeof sessionStatusSchema>;

/** Kubernetes-level pod status, compared lower-cased. `running` means up but not yet Ready. */
export const podStatusSchema = z.enum(['ready', 'pending', 'running', 'not found', 'failed', 'unknown', 'crashloopbackoff']);
export type PodStatus = z.infer<typeof podStatusSchema>;

/** Pod statuses that end a wait at once: the runtime will not become ready by waiting. */
export const TERMINAL_POD_STATUSES: readonly PodStatus[] = ['crashloopbackoff', 'failed', 'unknown'];

const lowerCased = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (typeof value === 'string' ? value.toLowerCase() : value), schema);

/** An unrecognised pod status is kept as a string: the wait loop logs it and retries. */
export const podStatusFieldSchema = lowerCased(z.union([podStatusSchema, z.string()]));

export const sessionInfoSchema = z.object({
  runtime_id: z.string(),
  url: z.string(),
  status: lowerCased(z.union([sessionStatusSchema, z.string()])),
  session_api_key: z.string().nullish(),
  pod_status: podStatusFieldSchema.nullish(),
  work_hosts: z.record(z.string(), z.number()).nullish(),
  restart_count: z.number().int().nullish(),
  restart_reasons: z.array(z.string()).nullish(),
  session_id: z.string().nullish(),
});
export type SessionInfo = z.infer<typeof sessionInfoSchema>;

export const startRuntimeRequestSchema = z.object({
  image: z.string().min(1).max(512),
  command: z.union([z.array(z.string().max(4096)).max(256), z.string().max(16384)]).optional(),
  working_dir: z.string().max(1024).optional(),
  environment: z.record(z.string().max(256), z.string().max(65536)).optional(),
  session_id: z.string().min(1).max(256),
  resource_factor: z.number().int().positive().optional(),
  runtime_class: z.string().max(64).optional(),
  run_as_user: z.number().int().optional(),
  run_as_group: z.number().int().optional(),
  fs_group: z.number().int().optional(),
  image_pull_policy: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
});
export type StartRuntimeRequest = z.infer<typeof startRuntimeRequestSchema>;

export const startRuntimeResponseSchema = z.object({
  runtime_id: z.string(),
  url: z.string(),
  session_api_key: z.string().nullish(),
  work_hosts: z.record(z.string(), z.number()).nullish(),
  status: z.string().nullish(),
  pod_status: podStatusFieldSchema.nullish(),
});
export type StartRuntimeResponse = z.infer<typeof startRuntimeResponseSchema>;

export const runtimeInfoSchema = z.object({
  runtime_id: z.string(),
  pod_status: podStatusFieldSchema,
  status: z.string().nullish(),
  restart_count: z.number().int().nullish(),
  restart_reasons: z.array(z.string()).nullish(),
});
export type RuntimeInfo = z.infer<typeof runtimeInfoSchema>;

/** Body of `/pause`, `/resume` and `/stop`. */
export const runtimeIdRequestSchema = z.object({ runtime_id: z.string().min(1).max(256) });
export type RuntimeIdRequest = z.infer<typeof runtimeIdRequestSchema>;

/** `/pause`, `/resume` and `/stop` are read by status code only; any JSON body is accepted. */
export const runtimeActionResponseSchema = z.unknown();

export const runtimeListResponseSchema = z.object({
  runtimes: z.array(sessionInfoSchema.extend({ session_id: z.string() })),
  total: z.number().int().nonnegative().optional(),
});
export type RuntimeListResponse = z.infer<typeof runtimeListResponseSchema>;

export const registryPrefixResponseSchema = z.object({ registry_prefix: z.string() });
export const imageExistsResponseSchema = z.object({ exists: z.boolean() });

/** Error bodies on both protocols are `{"detail": ...}` (FastAPI style). */
export const errorBodySchema = z.object({ detail: z.unknown() }).passthrough();
