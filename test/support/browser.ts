// A real headless Chromium driven over the DevTools protocol (a WebSocket, undici's): just
// enough to open a page, wait for what it shows, read its text and take a screenshot. No
// browser automation package: those download browser builds of their own, which this
// project's machines cannot fetch; Debian's chromium (installed by `npm run setup`) is used.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'undici';
import { spawnTethered } from '../../src/process/tether.js';

export interface Page {
  goto(url: string): Promise<void>;
  /** The value of a JavaScript expression evaluated in the page (awaited if it is a promise). */
  evaluate<T>(expression: string): Promise<T>;
  /** Polls `expression` until it is truthy; fails after `timeoutMs` with `what` and the page's text. */
  waitFor(what: string, expression: string, timeoutMs: number): Promise<void>;
  text(): Promise<string>;
  screenshot(file: string): Promise<void>;
}

export interface Browser {
  readonly page: Page;
  close(): Promise<void>;
}

export async function launchChromium(executable: string): Promise<Browser> {
  const profile = await mkdtemp(path.join(tmpdir(), 'dc-chromium-'));
  // --no-sandbox: Chromium's own sandbox refuses to run as root, which the project's machines are.
  // Tethered: a test process that dies (a runner timeout) takes the browser with it.
  const tethered = spawnTethered(executable, ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--remote-debugging-port=0', `--user-data-dir=${profile}`, '--window-size=1440,1000', 'about:blank']);
  const child = tethered.process;
  try {
    const port = await devToolsPort(child);
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ type: string; webSocketDebuggerUrl: string }>;
    const target = targets.find((t) => t.type === 'page');
    if (!target) throw new Error('chromium opened no page');
    const session = await connect(target.webSocketDebuggerUrl);
    await session.send('Page.enable');
    await session.send('Runtime.enable');
    return {
      page: pageOf(session),
      close: async () => {
        session.close();
        await tethered.stop(5_000);
        await removeProfile(profile);
      },
    };
  } catch (error) {
    await tethered.stop(1_000);
    await removeProfile(profile);
    throw error;
  }
}

/**
 * Chromium's helper processes can still be writing their cache for a moment after the browser
 * exits (seen under load: ENOTEMPTY): rm retries those errors a few times before giving up.
 */
const removeProfile = (profile: string) => rm(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });

/** Chromium prints `DevTools listening on ws://127.0.0.1:<port>/…` on stderr once it serves. */
async function devToolsPort(child: ChildProcess): Promise<number> {
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`chromium did not start within 60 s:\n${output}`)), 60_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const port = /DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(output)?.[1];
      if (port) {
        clearTimeout(timer);
        resolve(Number(port));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`chromium exited with ${code}:\n${output}`));
    });
  });
}

interface Session {
  send<T = Record<string, unknown>>(method: string, params?: object): Promise<T>;
  close(): void;
}

async function connect(url: string): Promise<Session> {
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)), { once: true });
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (value: never) => void; reject: (error: Error) => void }>();
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: never; error?: { message: string } };
    const waiter = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id as number);
    if (message.error) waiter.reject(new Error(message.error.message));
    else waiter.resolve(message.result as never);
  });
  return {
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve: resolve as (value: never) => void, reject });
        socket.send(JSON.stringify({ id, method, params }));
      }),
    close: () => socket.close(),
  };
}

function pageOf(session: Session): Page {
  const evaluate = async <T>(expression: string): Promise<T> => {
    const answer = await session.send<{ result: { value?: T }; exceptionDetails?: { text: string } }>('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
    if (answer.exceptionDetails) throw new Error(`page script failed: ${answer.exceptionDetails.text}`);
    return answer.result.value as T;
  };
  const text = () => evaluate<string>('document.body ? document.body.innerText : ""');
  return {
    goto: async (url) => {
      await session.send('Page.navigate', { url });
    },
    evaluate,
    text,
    waitFor: async (what, expression, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (await evaluate<boolean>(`Boolean(${expression})`).catch(() => false)) return;
        await sleep(500);
      }
      throw new Error(`${what}: not seen within ${timeoutMs / 1000} s; the page shows:\n${(await text().catch(() => '')).slice(0, 3000)}`);
    },
    screenshot: async (file) => {
      const { data } = await session.send<{ data: string }>('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
      await writeFile(file, Buffer.from(data, 'base64'));
    },
  };
}
