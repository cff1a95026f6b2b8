// Calls to a local Runtime API, as the benchmarks that drive one directly make them.
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';

export const BENCH_KEY = 'bench-key';
export const BENCH_HEADERS = { 'x-api-key': BENCH_KEY, 'content-type': 'application/json' };

export interface StartedRuntime {
  runtime_id: string;
  url: string;
  session_api_key: string;
  work_hosts: Record<string, number>;
}

/** One call with the bench key; the parsed JSON answer, or an error naming the status. */
export async function call<T>(method: string, url: string, body?: unknown, headers: Record<string, string> = BENCH_HEADERS): Promise<T> {
  const res = await request(url, { method: method as 'GET', headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.statusCode >= 300) throw new Error(`${method} ${url} answered ${res.statusCode}: ${await res.body.text()}`);
  return (await res.body.json()) as T;
}

/** POST /start, then polls the session until its pod is `ready` (or `timeoutMs` passes). */
export async function startReady(base: string, sessionId: string, timeoutMs = Number.POSITIVE_INFINITY): Promise<StartedRuntime> {
  await call('POST', `${base}/start`, { image: 'bench', session_id: sessionId });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const info = await call<StartedRuntime & { pod_status: string }>('GET', `${base}/sessions/${sessionId}`);
    if (info.pod_status === 'ready') return info;
    await sleep(10);
  }
  throw new Error(`session ${sessionId} not ready after ${timeoutMs} ms`);
}
