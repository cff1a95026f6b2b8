// Runs inside a sandbox that has a network of its own (RUNTIME_NETWORK=none), beside its
// agent: the agent listens on the sandbox's private loopback, which nothing outside can
// reach, so this relay listens on a socket file in a folder shared with the Runtime API
// server and passes every connection on to the agent's port. Bundled (../bundle.ts) and
// started by the sandbox's wrapper; it dies with the sandbox.
// env DC_RELAY_SOCKET: the socket file; DC_RELAY_PORT: the agent's loopback port.
import { rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';

const socketPath = process.env.DC_RELAY_SOCKET;
const port = Number(process.env.DC_RELAY_PORT);
if (!socketPath || !Number.isInteger(port) || port <= 0) {
  process.stderr.write('socket relay: DC_RELAY_SOCKET and DC_RELAY_PORT are required\n');
  process.exit(2);
}

rmSync(socketPath, { force: true }); // one left by the sandbox's previous run
createServer((client) => {
  const agent = connect(port, '127.0.0.1');
  const close = () => {
    client.destroy();
    agent.destroy();
  };
  client.on('error', close).on('close', close);
  agent.on('error', close).on('close', close);
  client.pipe(agent).pipe(client);
}).listen(socketPath);
