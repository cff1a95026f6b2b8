// A collector stand-in for benchmarks: accepts OTLP/HTTP trace exports (POST /v1/traces)
// and counts them, so tracing costs what it costs in production (serialising and sending
// spans) without a real collector on the machine.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpReceiver {
  /** What OTEL_EXPORTER_OTLP_ENDPOINT would say. */
  readonly endpoint: string;
  readonly received: { exports: number; bytes: number };
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const received = { exports: 0, bytes: 0 };
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (received.bytes += chunk.length));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') received.exports++;
      res.writeHead(req.method === 'POST' ? 200 : 404, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    received,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
