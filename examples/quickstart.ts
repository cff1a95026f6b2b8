import { ConversationClient } from '../src/client.js';
import { dataConverterWith, payloadCodecFrom } from '../src/codec/data-converter.js';
import { loadConfig } from '../src/config.js';

// The same settings as `npm start` and the CLI: its address, task queue and payload keys (data/encryption.keys).
const config = loadConfig();
const dataConverter = dataConverterWith(await payloadCodecFrom(config));
const address = config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`;
const conversations = await ConversationClient.connect({ address, taskQueue: config.TEMPORAL_TASK_QUEUE, dataConverter });
await conversations.start({ conversationId: 'c-42', userId: 'alice', message: { text: 'echo hi' } });
await conversations.waitUntilReady('c-42');            // RUNNING, or ProvisioningFailedError
const ack = await conversations.send('c-42', { text: 'ls', messageId: `msg-${Date.now()}` }); // { position, duplicate }
console.log(ack);
const done = await conversations.send('c-42', { text: 'git status', waitFor: 'turn' }); // done.outcome: answered | interrupted | refused | undelivered
console.log(done?.outcome);
console.log(await conversations.info('c-42'));         // status, runtime, counters, last error — no secrets
await conversations.close('c-42');
await conversations.temporal.connection.close();
