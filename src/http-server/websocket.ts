// The server side of RFC 6455, only as much as an event feed needs: the opening handshake,
// unmasked text frames out, masked text frames in, ping/pong and the closing handshake.
// Fragmented and binary messages are refused with a close frame (1003), and so is any
// frame over the size limit (1009); no extensions or subprotocols are negotiated.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OP = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface WebSocketOptions {
  /** Largest accepted frame payload from the client. @default 1 MiB */
  readonly maxFrameBytes?: number;
  /** Unsent bytes after which a slow reader is dropped (close 1013). @default 16 MiB */
  readonly maxBufferedBytes?: number;
  /** How long to wait for the peer's close frame after sending ours. @default 3 s */
  readonly closeTimeoutMs?: number;
}

/** Refuses an upgrade with a plain HTTP response and closes the connection. */
export function refuseUpgrade(socket: Duplex, status: number, reason: string, headers: Record<string, string> = {}): void {
  const lines = Object.entries({ 'content-length': '0', connection: 'close', ...headers }).map(([k, v]) => `${k}: ${v}\r\n`);
  socket.end(`HTTP/1.1 ${status} ${reason}\r\n${lines.join('')}\r\n`);
}

/** Completes the opening handshake; answers 400/426 and returns undefined when the request is not a valid upgrade. */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer, options: WebSocketOptions = {}): WebSocketConnection | undefined {
  const key = req.headers['sec-websocket-key'];
  const upgrade = req.headers.upgrade?.toLowerCase() === 'websocket';
  if (req.method !== 'GET' || !upgrade || typeof key !== 'string' || Buffer.from(key, 'base64').length !== 16) {
    refuseUpgrade(socket, 400, 'Bad Request');
    return undefined;
  }
  if (req.headers['sec-websocket-version'] !== '13') {
    refuseUpgrade(socket, 426, 'Upgrade Required', { 'sec-websocket-version': '13' });
    return undefined;
  }
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n\r\n`);
  return new WebSocketConnection(socket, head, options);
}

/** One accepted connection. Emits `text` per message and `close` once (1006 when no close frame came). */
export class WebSocketConnection extends EventEmitter<{ text: [string]; close: [number, string] }> {
  readonly #socket: Duplex;
  readonly #maxFrameBytes: number;
  readonly #maxBufferedBytes: number;
  readonly #closeTimeoutMs: number;
  #buffer: Buffer = Buffer.alloc(0);
  #closeSent = false;
  #failed = false;
  #closed = false;
  #peerClose: [number, string] | undefined;

  constructor(socket: Duplex, head: Buffer, options: WebSocketOptions) {
    super();
    this.#socket = socket;
    this.#maxFrameBytes = options.maxFrameBytes ?? 1024 * 1024;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 16 * 1024 * 1024;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 3000;
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.#finish(...(this.#peerClose ?? [1006, ''])));
    if (head.length > 0) queueMicrotask(() => this.#receive(head));
  }

  /** False once a close frame was sent or the connection is gone. */
  get open(): boolean {
    return !this.#closeSent && !this.#closed;
  }

  sendText(text: string): void {
    if (!this.open) return;
    if (this.#socket.writableLength > this.#maxBufferedBytes) return this.#fail(1013, 'slow consumer');
    this.#socket.write(frame(OP.text, Buffer.from(text, 'utf8')));
  }

  /** Starts the closing handshake; the connection is dropped if the peer does not answer in time. */
  close(code = 1000, reason = ''): void {
    if (!this.open) return;
    this.#closeSent = true;
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2, 'utf8');
    this.#socket.write(frame(OP.close, payload.subarray(0, 125)));
    if (this.#peerClose) this.#socket.end();
    else setTimeout(() => this.#socket.destroy(), this.#closeTimeoutMs).unref();
  }

  #receive(chunk: Buffer): void {
    if (this.#failed) return;
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const parsed = parseFrame(this.#buffer, this.#maxFrameBytes);
      if (parsed === undefined) return;
      if ('error' in parsed) return this.#fail(parsed.error, parsed.reason);
      this.#buffer = this.#buffer.subarray(parsed.length);
      this.#handle(parsed.fin, parsed.opcode, parsed.payload);
      if (this.#closed || this.#peerClose) return;
    }
  }

  #handle(fin: boolean, opcode: number, payload: Buffer): void {
    if (opcode === OP.close) {
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      this.#peerClose = [code, payload.subarray(2).toString('utf8')];
      // Echo the code, as RFC 6455 §5.5.1 suggests; codes that may not be sent get 1000.
      if (this.#closeSent) this.#socket.end();
      else this.close(code >= 1000 && code < 5000 && ![1005, 1006, 1015].includes(code) ? code : 1000);
    } else if (opcode === OP.ping) {
      if (this.open) this.#socket.write(frame(OP.pong, payload));
    } else if (opcode === OP.pong) {
      // Unsolicited pongs are allowed and mean nothing.
    } else if (!fin || opcode === OP.continuation) {
      this.#fail(1003, 'fragmented messages are not supported');
    } else if (opcode === OP.binary) {
      this.#fail(1003, 'binary messages are not supported');
    } else {
      let text: string;
      try {
        text = utf8.decode(payload);
      } catch {
        return this.#fail(1007, 'text frame is not valid UTF-8');
      }
      if (this.open) this.emit('text', text);
    }
  }

  /** Fails the connection (RFC 6455 §7.1.7): a close frame, then the end, without waiting for the peer. */
  #fail(code: number, reason: string): void {
    this.#failed = true;
    this.#buffer = Buffer.alloc(0);
    this.close(code, reason);
    this.#socket.end();
  }

  #finish(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.emit('close', code, reason);
  }
}

type Parsed = { fin: boolean; opcode: number; payload: Buffer; length: number } | { error: number; reason: string };

/** One complete frame from the start of `buffer`, undefined while more bytes are needed. */
function parseFrame(buffer: Buffer, maxBytes: number): Parsed | undefined {
  if (buffer.length < 2) return undefined;
  const [b0, b1] = [buffer[0]!, buffer[1]!];
  const opcode = b0 & 0x0f;
  if ((b0 & 0x70) !== 0) return { error: 1002, reason: 'reserved bits set' };
  if (![0x0, 0x1, 0x2, 0x8, 0x9, 0xa].includes(opcode)) return { error: 1002, reason: 'unknown opcode' };
  if ((b1 & 0x80) === 0) return { error: 1002, reason: 'client frames must be masked' };
  let size = b1 & 0x7f;
  let offset = 2;
  if (size === 126) {
    if (buffer.length < 4) return undefined;
    size = buffer.readUInt16BE(2);
    offset = 4;
  } else if (size === 127) {
    if (buffer.length < 10) return undefined;
    const big = buffer.readBigUInt64BE(2);
    size = big > BigInt(maxBytes) ? Infinity : Number(big);
    offset = 10;
  }
  const control = opcode >= 0x8;
  if (control && (size > 125 || (b0 & 0x80) === 0)) return { error: 1002, reason: 'invalid control frame' };
  if (size > maxBytes) return { error: 1009, reason: `frames are limited to ${maxBytes} bytes` };
  if (buffer.length < offset + 4 + size) return undefined;
  const mask = buffer.subarray(offset, offset + 4);
  const payload = Buffer.from(buffer.subarray(offset + 4, offset + 4 + size));
  for (let i = 0; i < payload.length; i += 1) payload[i]! ^= mask[i & 3]!;
  return { fin: (b0 & 0x80) !== 0, opcode, payload, length: offset + 4 + size };
}

/** A single unmasked frame (servers never mask). */
function frame(opcode: number, payload: Buffer): Buffer {
  const size = payload.length;
  const header = size < 126 ? Buffer.alloc(2) : size < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  header[0] = 0x80 | opcode;
  if (size < 126) header[1] = size;
  else if (size < 65536) {
    header[1] = 126;
    header.writeUInt16BE(size, 2);
  } else {
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(size), 2);
  }
  return Buffer.concat([header, payload]);
}
