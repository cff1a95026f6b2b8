// Every port `npm start` will listen on, checked before anything starts: a user with a
// second instance running learns every clash at once, in one message, instead of one per
// attempt after Temporal had already been started and stopped again.
import { createServer } from 'node:net';
import { metricsSetting } from '../config.js';
import type { Config } from '../config.js';
import { metricsBindAddress } from '../observability/metrics.js';

export interface PlannedPort {
  readonly host: string;
  readonly port: number;
  /** What listens there, e.g. "Temporal gRPC". */
  readonly what: string;
  /** The variable that moves it. */
  readonly variable: string;
}

export class PortsTakenError extends Error {
  constructor(readonly taken: readonly PlannedPort[]) {
    const lines = taken.map((p) => `  ${p.host}:${p.port} (${p.what}): set ${p.variable} to another port`);
    super(
      `${taken.length === 1 ? 'a port' : `${taken.length} ports`} \`npm start\` needs ${taken.length === 1 ? 'is' : 'are'} already in use — ` +
        `is another \`npm start\` or Temporal server running? Stop it, or move ${taken.length === 1 ? 'it' : 'them'}:\n${lines.join('\n')}`,
    );
    this.name = 'PortsTakenError';
  }
}

/** The ports the embedded parts will take with this configuration. */
export function plannedPorts(config: Config, parts: { temporal: boolean; ui: boolean; codecServer: boolean; runtimeApi: boolean }): PlannedPort[] {
  const ports: PlannedPort[] = [];
  if (parts.temporal) ports.push({ host: '127.0.0.1', port: config.TEMPORAL_PORT, what: 'Temporal gRPC', variable: 'TEMPORAL_PORT' });
  if (parts.temporal && parts.ui) ports.push({ host: '127.0.0.1', port: config.TEMPORAL_UI_PORT, what: 'Temporal Web UI', variable: 'TEMPORAL_UI_PORT' });
  if (parts.codecServer) ports.push({ host: config.CODEC_SERVER_HOST, port: config.CODEC_SERVER_PORT, what: 'codec server', variable: 'CODEC_SERVER_PORT' });
  if (parts.runtimeApi) ports.push({ host: config.RUNTIME_API_HOST, port: config.RUNTIME_API_PORT, what: 'local Runtime API', variable: 'RUNTIME_API_PORT' });
  const metrics = metricsSetting(config);
  if (metrics) {
    const bind = metricsBindAddress(metrics);
    const at = bind.lastIndexOf(':');
    ports.push({ host: bind.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(bind.slice(at + 1)), what: 'Prometheus metrics', variable: 'METRICS_ADDRESS' });
  }
  return ports.filter((p) => p.port !== 0);
}

/** Throws PortsTakenError naming every planned port something already listens on. */
export async function assertPortsFree(ports: readonly PlannedPort[]): Promise<void> {
  const taken: PlannedPort[] = [];
  for (const planned of ports) if (await isTaken(planned)) taken.push(planned);
  if (taken.length > 0) throw new PortsTakenError(taken);
}

function isTaken({ host, port }: PlannedPort): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    // Only EADDRINUSE means taken; any other failure (a host not on this machine) is left for the part itself to report.
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRINUSE'));
    probe.listen(port, host, () => probe.close(() => resolve(false)));
  });
}
