// The scripted LLM: first its HTTP API on its own, then driving the real OpenHands agent
// server (a real `python -m openhands.agent_server` process) through a tool-call turn.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TITLE_REPLY } from '../../src/llm/script.js';
import { SCRIPTED_API_KEY, chatRequests, scriptedLlmSettings, startScriptedLlm } from '../support/scripted-llm.js';
import type { ScriptedLlm } from '../support/scripted-llm.js';
import { startRealAgentServer } from './real-agent-server.js';
import type { RealAgentServer } from './real-agent-server.js';

const TOOLS = [{ type: 'function', function: { name: 'terminal', parameters: {} } }, { type: 'function', function: { name: 'finish', parameters: {} } }];
const user = (text: string) => ({ role: 'user', content: [{ type: 'text', text }] });

interface Completion {
  id: string;
  created: number;
  choices: Array<{ finish_reason: string; message: { content: string | null; tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }> } }>;
  usage: { total_tokens: number };
}

describe('scripted LLM over HTTP', () => {
  let llm: ScriptedLlm;
  before(async () => {
    llm = await startScriptedLlm();
  });
  after(() => llm.close());

  const complete = async (body: object, init: RequestInit = {}) => {
    const response = await fetch(`${llm.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SCRIPTED_API_KEY}` },
      body: JSON.stringify({ model: 'scripted', ...body }),
      ...init,
    });
    return { status: response.status, json: (await response.json()) as Completion & { error: { message: string; type: string } } };
  };

  test('echoes anything unscripted, deterministically, and records the key', async () => {
    const first = await complete({ messages: [user('hello')] });
    const second = await complete({ messages: [user('hello')] });
    assert.equal(first.status, 200);
    assert.equal(first.json.choices[0]!.message.content, 'echo: hello');
    assert.equal(first.json.choices[0]!.finish_reason, 'stop');
    assert.deepEqual({ ...second.json, id: first.json.id }, first.json, 'same request, same reply; only the counter ID moves');
    assert.notEqual(second.json.id, first.json.id);
    assert.equal(llm.requests.at(-1)!.apiKey, SCRIPTED_API_KEY);
    assert.equal(llm.requests.at(-1)!.kind, 'chat');
  });

  test('run: calls the terminal tool, then reports its result', async () => {
    const call = await complete({ messages: [user('run: echo hi')], tools: TOOLS });
    const toolCall = call.json.choices[0]!.message.tool_calls![0]!;
    assert.equal(call.json.choices[0]!.finish_reason, 'tool_calls');
    assert.equal(toolCall.function.name, 'terminal');
    assert.deepEqual(JSON.parse(toolCall.function.arguments), { command: 'echo hi' });

    const assistant = { role: 'assistant', tool_calls: [toolCall] };
    const result = { role: 'tool', tool_call_id: toolCall.id, content: [{ type: 'text', text: 'hi\n[exit 0]' }] };
    const final = await complete({ messages: [user('run: echo hi'), assistant, result], tools: TOOLS });
    assert.equal(final.json.choices[0]!.message.content, 'ran: echo hi\nhi\n[exit 0]');

    const noTool = await complete({ messages: [user('run: echo hi')] });
    assert.match(noTool.json.choices[0]!.message.content!, /offers no terminal tool/);
  });

  test('the directive is the last part of a merged user message', async () => {
    const merged = { role: 'user', content: [{ type: 'text', text: 'error' }, { type: 'text', text: 'run: ls' }] };
    const reply = await complete({ messages: [merged], tools: TOOLS });
    assert.equal(reply.json.choices[0]!.message.tool_calls![0]!.function.arguments, '{"command":"ls"}');
  });

  test('finish: calls the finish tool', async () => {
    const reply = await complete({ messages: [user('finish: all done')], tools: TOOLS });
    const call = reply.json.choices[0]!.message.tool_calls![0]!;
    assert.equal(call.function.name, 'finish');
    assert.deepEqual(JSON.parse(call.function.arguments), { message: 'all done' });
  });

  test('error answers in OpenAI error shape; flaky fails n times, then answers', async () => {
    const plain = await complete({ messages: [user('error')] });
    assert.equal(plain.status, 500);
    assert.equal(plain.json.error.type, 'server_error');
    const limited = await complete({ messages: [user('error: 429')] });
    assert.equal(limited.status, 429);
    assert.equal(limited.json.error.type, 'rate_limit_error');

    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await complete({ messages: [user('flaky: 2 got there')] })).status);
    assert.deepEqual(statuses, [500, 500, 200]);
  });

  test('slow: waits, and a client that gives up is recorded as gone', async () => {
    const started = Date.now();
    const reply = await complete({ messages: [user('slow: 150 late')] });
    assert.ok(Date.now() - started >= 150);
    assert.equal(reply.json.choices[0]!.message.content, 'late');

    const abandoned = complete({ messages: [user('slow: 60000 never')] }, { signal: AbortSignal.timeout(100) });
    await assert.rejects(abandoned, { name: 'TimeoutError' });
    await waitFor(() => llm.requests.at(-1)!.status === 499, 2_000);
  });

  test('streams SSE chunks whose deltas add up to the reply', async () => {
    const response = await fetch(`${llm.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'scripted', stream: true, messages: [user('two  words')] }),
    });
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    const frames = (await response.text()).split('\n\n').filter(Boolean);
    assert.equal(frames.at(-1), 'data: [DONE]');
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.slice('data: '.length)) as { choices: Array<{ delta: { content?: string }; finish_reason: string | null }> });
    assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), 'echo: two  words');
    assert.equal(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason, 'stop');
  });

  test("the agent server's title call gets a title; other routes answer like OpenAI", async () => {
    const system = { role: 'system', content: 'You generate concise, descriptive titles for conversations.' };
    const title = await complete({ messages: [system, user('error')] });
    assert.equal(title.json.choices[0]!.message.content, TITLE_REPLY);
    assert.equal(llm.requests.at(-1)!.kind, 'title');

    const models = (await (await fetch(`${llm.baseUrl}/models`)).json()) as { data: Array<{ id: string }> };
    assert.deepEqual(models.data.map((m) => m.id), ['scripted']);
    assert.equal((await fetch(`${llm.url}/v1/responses`, { method: 'POST', body: '{}' })).status, 404);
    assert.equal((await fetch(`${llm.baseUrl}/chat/completions`, { method: 'POST', body: 'not json' })).status, 400);
  });
});

describe('scripted LLM driving the real OpenHands agent server', () => {
  let llm: ScriptedLlm;
  let server: RealAgentServer;
  let scratch: string;
  before(
    async () => {
      llm = await startScriptedLlm();
      scratch = await mkdtemp(path.join(process.env.TEST_SCRATCH_DIR ?? tmpdir(), 'scripted-llm-'));
      server = await startRealAgentServer({ dir: scratch });
    },
    { timeout: 200_000 },
  );
  after(async () => {
    await server?.close();
    await llm?.close();
  });

  const newConversation = async (name: string, llmOverrides: Record<string, unknown> = {}) => {
    const workingDir = path.join(scratch, name);
    await mkdir(workingDir);
    const created = await server.api('POST', '/api/conversations', {
      agent: { kind: 'Agent', llm: scriptedLlmSettings(llm, llmOverrides), tools: [{ name: 'terminal' }] },
      workspace: { kind: 'LocalWorkspace', working_dir: workingDir },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return (created.body as { id: string }).id;
  };

  /** Posts `text` with run:true; once the turn ended in `status`, the events from that message on. */
  const turn = async (id: string, text: string, status: string) => {
    const posted = await server.api('POST', `/api/conversations/${id}/events`, { ...user(text), run: true });
    assert.equal(posted.status, 200, JSON.stringify(posted.body));
    // GET can lag the WebSocket (it answers from the saved base_state.json), and the
    // previous turn's status is still there just after the POST: wait for the events.
    let events: AgentEvent[] = [];
    await waitFor(async () => {
      const all = ((await server.api('GET', `/api/conversations/${id}/events/search?limit=100`)).body as { items: AgentEvent[] }).items;
      events = all.slice(all.findLastIndex((e) => e.kind === 'MessageEvent' && e.source === 'user' && textOf(e) === text));
      const last = events.findLast((e) => e.kind === 'ConversationStateUpdateEvent' && e.key === 'execution_status');
      return last?.value === status;
    }, 60_000);
    return events;
  };

  test('run: echo hi → terminal tool call, output in the final reply, turn finished', { timeout: 120_000 }, async () => {
    const id = await newConversation('echo');
    // The first command in a fresh terminal can come back as tmux set-up noise on a busy
    // machine (the terminal tool waits a fixed 0.1 s for its PS1 to take): warm it up.
    await turn(id, 'run: true', 'finished');
    const events = await turn(id, 'run: echo hi', 'finished');

    const action = events.find((e) => e.kind === 'ActionEvent');
    assert.equal(action?.tool_name, 'terminal');
    assert.deepEqual(action?.action?.command, 'echo hi');
    const observation = events.find((e) => e.kind === 'ObservationEvent');
    assert.equal(observation?.observation?.exit_code, 0);
    const reply = events.findLast((e) => e.kind === 'MessageEvent' && e.source === 'agent');
    assert.match(reply ? textOf(reply) : '', /^ran: echo hi\nhi\n/);
    const info = (await server.api('GET', `/api/conversations/${id}`)).body as { execution_status: string };
    assert.equal(info.execution_status, 'finished');

    // litellm names the conversation in x-litellm-session-id: this one's calls, title included.
    const mine = llm.requests.filter((r) => r.headers['x-litellm-session-id'] === id);
    const chats = mine.filter((r) => r.kind === 'chat');
    assert.equal(chats.length, 4, 'per turn: one call that asks for the tool, one after its result');
    assert.deepEqual(
      chats[0]!.body!.tools!.map((t) => t.function?.name),
      ['terminal', 'finish', 'think'],
    );
    assert.ok(mine.every((r) => r.apiKey === SCRIPTED_API_KEY), 'every call carries the agent llm api_key');
  });

  test('error: 503 ends the turn in execution_status error with a ConversationErrorEvent', { timeout: 120_000 }, async () => {
    const id = await newConversation('error');
    await turn(id, 'error: 503', 'error');
    // The ConversationErrorEvent comes just after the status event, not before it.
    await waitFor(async () => (await server.api('GET', `/api/conversations/${id}/events/count?kind=ConversationErrorEvent`)).body === 1, 10_000);
  });

  test('stream: true reaches the fake as SSE and the reply arrives whole', { timeout: 120_000 }, async () => {
    const id = await newConversation('stream', { stream: true });
    const events = await turn(id, 'hello  stream', 'finished');
    const reply = events.findLast((e) => e.kind === 'MessageEvent' && e.source === 'agent');
    assert.equal(reply ? textOf(reply) : '', 'echo: hello  stream');
    assert.equal(chatRequests(llm).at(-1)!.body!.stream, true);
  });
});

interface AgentEvent {
  kind: string;
  source: string;
  key?: string;
  value?: unknown;
  tool_name?: string;
  action?: { command?: string };
  observation?: { exit_code?: number };
  llm_message?: { content: Array<{ text?: string }> };
}

const textOf = (event: AgentEvent) => event.llm_message?.content.map((c) => c.text ?? '').join('') ?? '';

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(100);
  }
}
