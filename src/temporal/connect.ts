// Connecting a Temporal client with an answer that names the address. The SDK's
// Connection.connect keeps retrying a refused connection until its deadline and then
// says only "Failed to connect before the deadline"; a plain TCP connect first tells a
// closed port (or an unknown host) at once, with the operating system's reason.
import { connect as tcpConnect } from 'node:net';
import { Connection } from '@temporalio/client';
import { TemporalUnavailableError } from '../client-errors.js';

export interface TemporalConnectOptions {
  /** host:port of the Temporal frontend. */
  readonly address: string;
  /** How long to wait for the server to answer. @default 10 s (the SDK's default) */
  readonly connectTimeoutMs?: number;
}

/** A connected Connection, or TemporalUnavailableError naming the address and why. */
export async function connectTemporal(options: TemporalConnectOptions): Promise<Connection> {
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  const call = { address: options.address, action: '' };
  await assertTemporalReachable(options.address, '', timeoutMs);
  try {
    return await Connection.connect({ address: options.address, connectTimeout: timeoutMs });
  } catch (error) {
    throw new TemporalUnavailableError(call, error instanceof Error ? error.message : String(error), { cause: error });
  }
}

/**
 * Throws TemporalUnavailableError (address, what is expected there, the variable to set)
 * unless a TCP connection to `address` opens. The worker's NativeConnection would
 * otherwise report a closed port as `tonic::transport::Error(Transport, ConnectError(…))`.
 */
export async function assertTemporalReachable(address: string, action: string, timeoutMs = 10_000): Promise<void> {
  try {
    await probeTcp(address, timeoutMs);
  } catch (error) {
    throw new TemporalUnavailableError({ address, action }, error instanceof Error ? error.message : String(error), { cause: error });
  }
}

/** Resolves once a TCP connection to `address` opens (then closes it); rejects with the socket error or a timeout. */
function probeTcp(address: string, timeoutMs: number): Promise<void> {
  const { hostname, port } = new URL(`tcp://${address}`);
  const host = hostname.replace(/^\[(.*)\]$/, '$1');
  if (!port) return Promise.reject(new Error(`expected host:port, not "${address}"`));
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host, port: Number(port), timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    });
    socket.once('error', (error) => {
      socket.destroy();
      reject(error);
    });
  });
}
