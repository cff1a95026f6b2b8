// Encryption grows payloads; the message limits stay honest: the largest message the
// limit lets through, as the payloads that carry it (the sendMessage update's input and
// the deliverMessage activity's input), encrypted for real, fits the bound the worker is
// configured with, inside Temporal's per-payload limit; the README states the figures.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { DeliveryInput } from '../../src/activities/agent.js';
import { EncryptionCodec } from '../../src/codec/encryption-codec.js';
import { generateKey } from '../../src/codec/keys.js';
import { LARGEST_MESSAGE_PAYLOAD_BYTES, PAYLOAD_WARN_BYTES, TEMPORAL_PAYLOAD_LIMIT_BYTES } from '../../src/codec/message-size.js';
import type { SendMessageInput } from '../../src/workflows/messages.js';
import { MESSAGE_MAX_BYTES_CEILING, validateMessage } from '../../src/workflows/validation.js';

const wireBytes = (payload: proto.temporal.api.common.v1.IPayload) => proto.temporal.api.common.v1.Payload.encode(payload).finish().length;

describe('message size after encryption', () => {
  // Every character JSON-encodes to 2 bytes here, the worst a text at the ceiling can be for its length in bytes.
  const text = '"'.repeat(MESSAGE_MAX_BYTES_CEILING / 2);
  const messageId = 'm'.repeat(128);
  const codec = new EncryptionCodec([generateKey('k'.repeat(64))]);

  test('the largest message passes validation', () => {
    validateMessage({ messageId, text }, MESSAGE_MAX_BYTES_CEILING);
  });

  test(`its encrypted payloads stay within ${LARGEST_MESSAGE_PAYLOAD_BYTES} bytes, under Temporal's ${TEMPORAL_PAYLOAD_LIMIT_BYTES}`, async () => {
    const update: SendMessageInput = { messageId, text, waitFor: 'turn' };
    const id128 = 's'.repeat(128);
    const delivery: DeliveryInput = {
      sessionId: id128,
      runtimeId: `runtime-${id128}`,
      url: `https://${'r'.repeat(200)}.runtime.example.com/${id128}`,
      agentConversationId: '0'.repeat(36),
      messageId,
      text,
      userMessagesBefore: 1_000_000,
      continueTurn: true,
    };
    for (const [name, value] of Object.entries({ update, delivery })) {
      const [sealed] = await codec.encode([defaultPayloadConverter.toPayload(value)]);
      const size = wireBytes(sealed!);
      assert.ok(size <= LARGEST_MESSAGE_PAYLOAD_BYTES, `${name}: ${size} bytes`);
      assert.ok(size < TEMPORAL_PAYLOAD_LIMIT_BYTES, `${name}: ${size} bytes`);
    }
    assert.ok(PAYLOAD_WARN_BYTES > LARGEST_MESSAGE_PAYLOAD_BYTES);
  });

  test('the README states the ceiling and the encrypted size', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    assert.ok(readme.includes(MESSAGE_MAX_BYTES_CEILING.toLocaleString('en-US')), `README names the ceiling ${MESSAGE_MAX_BYTES_CEILING}`);
    assert.ok(readme.includes(LARGEST_MESSAGE_PAYLOAD_BYTES.toLocaleString('en-US')), `README names the encrypted size ${LARGEST_MESSAGE_PAYLOAD_BYTES}`);
  });
});
