// Public surface of the runtime-api module: both clients, the event stream, their error
// family and the zod contract. http.ts stays internal except the pieces a worker needs to share.
export * from './errors.js';
export * from './runtime-api-schemas.js';
export * from './agent-server-schemas.js';
export * from './events.js';
export { RuntimeApiClient, RUNTIME_API_DEFAULTS } from './runtime-api-client.js';
export type { RuntimeApiClientOptions } from './runtime-api-client.js';
export { AgentServerClient, AGENT_SERVER_DEFAULTS, createAgentServerDispatcher } from './agent-server-client.js';
export type { AgentServerClientOptions, AgentServerDispatcherOptions, RunOutcome } from './agent-server-client.js';
export { openEventStream } from './event-stream.js';
export type { EventStream, EventStreamOptions } from './event-stream.js';
export { closeDispatcher, parseRetryAfter } from './http.js';
export { REDACTED, redact, registerSecret } from './redaction.js';
export type { CallOptions } from './http.js';
