// The server side of RFC 6455 in src/http-server/websocket.ts, driven byte by byte from a
// raw TCP client (for what undici's client would never send) and by undici's WebSocket.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { WebSocket } from 'undici';
import { acceptWebSocket } from '../../src/http-server/websocket.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
let server: Server;
let port: number;

// An echo server: every text message comes back prefixed; `big` gets 70 000 bytes (a frame
// with a 64-bit length), `close-me` a close with 4321.
before(async () => {
  server = createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => {
    const ws = acceptWebSocket(req, socket, head, { maxFrameBytes: 1024 });
    ws?.on('text', (text) => {
      if (text === 'close-me') ws.close(4321, 'asked to');
      else ws.sendText(text === 'big' ? 'y'.repeat(70_000) : `echo: ${text}`);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

/** A client frame: masked, FIN set unless `fin` is false. */
function clientFrame(opcode: number, payload: Buffer | string, fin = true): Buffer {
  const data = Buffer.from(payload);
  const mask = randomBytes(4);
  const masked = Buffer.from(data.map((byte, i) => byte ^ mask[i % 4]!));
  const length = data.length < 126 ? Buffer.from([0x80 | data.length]) : Buffer.from([0x80 | 126, data.length >> 8, data.length & 0xff]);
  return Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode]), length, mask, masked]);
}

/** Opens a raw connection, performs the handshake and returns the socket and response head. */
async function rawUpgrade(headers: Record<string, string> = {}): Promise<{ socket: Socket; head: string; rest: Buffer }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const lines = { host: `127.0.0.1:${port}`, upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': KEY, 'sec-websocket-version': '13', ...headers };
  socket.write(`GET /x HTTP/1.1\r\n${Object.entries(lines).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
  let received = Buffer.alloc(0);
  for (;;) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    received = Buffer.concat([received, chunk]);
    const end = received.indexOf('\r\n\r\n');
    if (end !== -1) return { socket, head: received.subarray(0, end).toString(), rest: received.subarray(end + 4) };
  }
}

/** Reads server frames until the server closes the connection. */
async function serverFrames(socket: Socket, initial: Buffer): Promise<Array<{ opcode: number; payload: Buffer }>> {
  const chunks = [initial];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'close');
  const data = Buffer.concat(chunks);
  const frames: Array<{ opcode: number; payload: Buffer }> = [];
  for (let at = 0; at < data.length; ) {
    assert.equal(data[at + 1]! & 0x80, 0, 'server frames are never masked');
    const size = data[at + 1]! & 0x7f; // the tests keep server frames under 126 bytes
    frames.push({ opcode: data[at]! & 0x0f, payload: data.subarray(at + 2, at + 2 + size) });
    at += 2 + size;
  }
  return frames;
}

const closeCode = (frame: { payload: Buffer } | undefined) => frame?.payload.readUInt16BE(0);

describe('WebSocket server', () => {
  test('the handshake answers 101 with Sec-WebSocket-Accept = base64(sha1(key + GUID))', async () => {
    const { socket, head } = await rawUpgrade();
    const expected = createHash('sha1').update(`${KEY}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.match(head, new RegExp(`sec-websocket-accept: ${expected.replace(/[+/]/g, '\\$&')}`, 'i'));
    assert.doesNotMatch(head, /sec-websocket-extensions/i);
    socket.destroy();
  });

  test('a bad key is refused with 400, another version with 426', async () => {
    const bad = await rawUpgrade({ 'sec-websocket-key': 'short' });
    assert.match(bad.head, /^HTTP\/1\.1 400 /);
    bad.socket.destroy();
    const old = await rawUpgrade({ 'sec-websocket-version': '8' });
    assert.match(old.head, /^HTTP\/1\.1 426 /);
    assert.match(old.head, /sec-websocket-version: 13/i);
    old.socket.destroy();
  });

  test('text in and out through undici, including a 70 KB frame and a server-initiated close code', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/x`);
    const messages: string[] = [];
    ws.addEventListener('message', (e) => messages.push(String(e.data)));
    await once(ws as unknown as EventTarget, 'open');
    ws.send('héllo');
    ws.send('big');
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.addEventListener('close', (e) => resolve(e)));
    ws.send('close-me');
    const { code, reason } = await closed;
    assert.deepEqual(messages, ['echo: héllo', 'y'.repeat(70_000)]);
    assert.equal(code, 4321);
    assert.equal(reason, 'asked to');
  });

  test('a ping gets a pong with the same payload; a client close is echoed', async () => {
    const { socket, rest } = await rawUpgrade();
    socket.write(Buffer.concat([clientFrame(0x9, 'are you there'), clientFrame(0x8, Buffer.from([0x03, 0xe8]))]));
    const frames = await serverFrames(socket, rest);
    assert.equal(frames[0]?.opcode, 0xa);
    assert.equal(frames[0]?.payload.toString(), 'are you there');
    assert.equal(frames[1]?.opcode, 0x8);
    assert.equal(closeCode(frames[1]), 1000);
  });

  for (const [name, frame, code] of [
    ['a fragmented message is refused with 1003', clientFrame(0x1, 'part', false), 1003],
    ['a binary message is refused with 1003', clientFrame(0x2, 'bytes'), 1003],
    ['a frame over the size limit is refused with 1009', clientFrame(0x1, 'x'.repeat(2000)), 1009],
    ['an unmasked frame is a protocol error (1002)', Buffer.from([0x81, 0x02, 0x68, 0x69]), 1002],
    ['invalid UTF-8 in a text frame is refused with 1007', clientFrame(0x1, Buffer.from([0xc3, 0x28])), 1007],
  ] as const) {
    test(name, async () => {
      const { socket, rest } = await rawUpgrade();
      socket.write(frame);
      const frames = await serverFrames(socket, rest);
      assert.equal(frames.length, 1);
      assert.equal(frames[0]?.opcode, 0x8);
      assert.equal(closeCode(frames[0]), code);
    });
  }
});
