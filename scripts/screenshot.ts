// Takes a screenshot of a page with headless Chromium (Debian's, which `npm run setup`
// installs), driven over the DevTools protocol: Chromium's own `--screenshot` waits for
// the page to go quiet, and the Temporal UI's workflow pages poll for ever, so it never
// does. Used for the UI screenshots in docs/screenshots.
// Run: npx tsx scripts/screenshot.ts <url> <out.png> [width] [height] [waitMs]
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'undici';
import { freePort } from '../src/temporal/dev-server.js';

const [url, out, width = '1500', height = '1000', waitMs = '8000'] = process.argv.slice(2);
if (!url || !out) throw new Error('usage: npx tsx scripts/screenshot.ts <url> <out.png> [width] [height] [waitMs]');

const port = await freePort();
const chromium = spawn('chromium', ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--hide-scrollbars', `--window-size=${width},${height}`, `--remote-debugging-port=${port}`, 'about:blank'], { stdio: 'ignore' });
try {
  const socket = new WebSocket(await pageSocketUrl(port));
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve);
    socket.addEventListener('error', reject);
  });
  const replies = new Map<number, (reply: { result?: { data?: string } }) => void>();
  socket.addEventListener('message', (message) => {
    const reply = JSON.parse(String(message.data)) as { id?: number; result?: { data?: string } };
    if (reply.id !== undefined) replies.get(reply.id)?.(reply);
  });
  let lastId = 0;
  const send = (method: string, params: object = {}) =>
    new Promise<{ result?: { data?: string } }>((resolve) => {
      const id = ++lastId;
      replies.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  await send('Page.enable');
  await send('Page.navigate', { url });
  // The UI renders from API calls after load: give it a fixed while instead of waiting for quiet.
  await sleep(Number(waitMs));
  const shot = await send('Page.captureScreenshot', { format: 'png' });
  if (!shot.result?.data) throw new Error('Chromium returned no screenshot');
  await writeFile(out, Buffer.from(shot.result.data, 'base64'));
  socket.close();
  console.log(`wrote ${out}`);
} finally {
  chromium.kill('SIGKILL');
}

/** The first page target's DevTools socket, once Chromium listens (it takes a few seconds on a busy machine). */
async function pageSocketUrl(debugPort: number): Promise<string> {
  for (let tries = 0; tries < 120; tries++) {
    try {
      const targets = (await (await fetch(`http://127.0.0.1:${debugPort}/json`)).json()) as Array<{ type: string; webSocketDebuggerUrl: string }>;
      const page = targets.find((target) => target.type === 'page');
      if (page) return page.webSocketDebuggerUrl;
    } catch {
      // not listening yet
    }
    await sleep(500);
  }
  throw new Error(`Chromium did not open its DevTools port ${debugPort} within 60 s`);
}
