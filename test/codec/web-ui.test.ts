// What the user of `npm start` sees in the Temporal Web UI, in a real headless Chromium:
// the conversation's input, its `info` query answer and its messages decrypted (the
// embedded UI decodes through the codec server), and never `binary/encrypted`. The
// negative control — a workflow encrypted with a key the codec server lacks — shows that
// the same check does catch a page of undecrypted payloads.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { dataConverterWith } from '../../src/codec/data-converter.js';
import { ENCRYPTED_ENCODING, EncryptionCodec } from '../../src/codec/encryption-codec.js';
import { generateKey } from '../../src/codec/keys.js';
import { launchChromium } from '../support/browser.js';
import type { Browser } from '../support/browser.js';
import { startMainProcess } from '../support/main-process.js';
import type { MainProcess } from '../support/main-process.js';

/** Generous: a cold UI page on a loaded 2-core machine takes seconds to fetch, decode and render. */
const PAGE_MS = 90_000;
const ENCRYPTED_MARKERS = [ENCRYPTED_ENCODING, Buffer.from(ENCRYPTED_ENCODING).toString('base64')];
/** A payload the UI could not decode is shown as its data: one long quoted base64 string. */
const RAW_PAYLOAD = /"[A-Za-z0-9+/]{48,}={0,2}"/;
const shots = path.join(process.env.TEST_SCRATCH_DIR ?? tmpdir(), 'web-ui-screenshots');

/** Page text plus a screenshot: fails when any payload is shown encrypted (its metadata, plain or base64, or its raw data). */
async function assertShownDecrypted(browser: Browser, name: string): Promise<void> {
  await browser.page.screenshot(path.join(shots, `${name}.png`));
  const text = await browser.page.text();
  for (const marker of ENCRYPTED_MARKERS) assert.ok(!text.includes(marker), `${name}: the page shows "${marker}" (screenshot ${shots}/${name}.png)`);
  const raw = RAW_PAYLOAD.exec(text)?.[0];
  assert.equal(raw, undefined, `${name}: the page shows an undecrypted payload (screenshot ${shots}/${name}.png)`);
}

describe('the Temporal Web UI under npm start shows decrypted conversations', () => {
  let main: MainProcess;
  let browser: Browser;
  const id = `ui-${randomBytes(4).toString('hex')}`;
  const secret = `ui-secret-${randomBytes(6).toString('hex')}`;
  let runUrl: string;
  before(async () => {
    const chromium = process.env.CHROMIUM_PATH;
    assert.ok(chromium, 'CHROMIUM_PATH is set by `npm test` (scripts/test.ts found or installed Chromium)');
    await mkdir(shots, { recursive: true });
    main = await startMainProcess();
    browser = await launchChromium(chromium);
    const started = await main.cli('start', id, '--user', 'ui-user', '--message', `echo ${secret}`, '--message-id', 'm1');
    assert.equal(started.code, 0, started.stderr);
    const second = await main.cli('send', id, 'echo second-message', '--message-id', 'm2', '--wait', '--json');
    assert.equal(second.code, 0, second.stderr);
  });
  after(async () => {
    // npm start is stopped whatever the browser does: left running, it kept this file alive until its timeout (seen once, 2026-12-03).
    try {
      await browser?.close();
    } finally {
      await main?.stop();
    }
  });

  test('the workflow page shows the decrypted input', async () => {
    await browser.page.goto(`${main.uiUrl}/namespaces/default/workflows/${id}`);
    await browser.page.waitFor('the decrypted workflow input', `document.body.innerText.includes('"userId": "ui-user"')`, PAGE_MS);
    await assertShownDecrypted(browser, 'workflow');
    runUrl = (await browser.page.evaluate<string>('location.href')).replace(/\/(timeline|history)$/, '');
  });

  test('the info query answers decrypted', async () => {
    await browser.page.goto(`${runUrl}/query`);
    await browser.page.waitFor('the Run Query button', `[...document.querySelectorAll('button')].some((b) => b.innerText.trim() === 'Run Query' && !b.disabled)`, PAGE_MS);
    await browser.page.waitFor('the info query offered', `document.querySelector('[data-testid="query-select"]')?.value === 'info'`, PAGE_MS);
    await browser.page.evaluate(`[...document.querySelectorAll('button')].find((b) => b.innerText.trim() === 'Run Query').click()`);
    await browser.page.waitFor('the decrypted info answer', `document.body.innerText.includes('"delivered": 2') && document.body.innerText.includes('"conversationId": "${id}"')`, PAGE_MS);
    await assertShownDecrypted(browser, 'query-info');
  });

  test('the event history shows the messages (update inputs) decrypted', async () => {
    await browser.page.goto(`${runUrl}/history`);
    // The list shows each update by name only; a click on its row opens its details, the decoded input among them.
    const updateRows = `[...document.querySelectorAll('tr[data-testid="event-summary-row"]')].filter((row) => row.innerText.includes('Workflow Execution Update Accepted'))`;
    await browser.page.waitFor('both accepted updates listed', `${updateRows}.length >= 2`, PAGE_MS);
    await browser.page.evaluate(`${updateRows}.forEach((row) => row.click())`);
    await browser.page.waitFor('the first message, decrypted', `document.body.innerText.includes('echo ${secret}')`, PAGE_MS);
    await browser.page.waitFor('the second message, decrypted', `document.body.innerText.includes('echo second-message')`, PAGE_MS);
    await assertShownDecrypted(browser, 'history');
  });

  test('negative control: a workflow under a key the codec server lacks is shown encrypted, and the check says so', async () => {
    const connection = await Connection.connect({ address: main.temporalAddress });
    try {
      const stranger = new Client({ connection, dataConverter: dataConverterWith(new EncryptionCodec([generateKey('stranger')])) });
      const strangerId = `${id}-stranger`;
      // No worker polls this queue: the workflow only has to exist with its encrypted input.
      await stranger.workflow.start('conversationWorkflow', { taskQueue: 'nobody-polls', workflowId: strangerId, args: [{ conversationId: strangerId, userId: 'stranger-user' }] });
      await browser.page.goto(`${main.uiUrl}/namespaces/default/workflows/${strangerId}`);
      await browser.page.waitFor('the undecryptable input', `${RAW_PAYLOAD}.test(document.body.innerText)`, PAGE_MS);
      assert.ok(!(await browser.page.text()).includes('stranger-user'));
      await assert.rejects(assertShownDecrypted(browser, 'negative-control'), /the page shows/);
    } finally {
      await connection.close();
    }
  });
});
