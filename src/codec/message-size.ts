// How big the largest user message gets once it is a Temporal payload, encrypted. The
// binding limit on a message stays the runtime's 1 MiB request body (MESSAGE_MAX_BYTES_CEILING,
// workflows/validation.ts); this module shows that encryption keeps it well inside
// Temporal's own per-payload limit, and sets the worker's size warning above it so that a
// message within the limit never logs one.
import { MESSAGE_MAX_BYTES_CEILING } from '../workflows/validation.js';
import { encryptedPayloadBytes } from './encryption-codec.js';

/** Temporal's per-payload limit: the server's `limit.blobSize.error`, which 1.24 workers also check before sending. */
export const TEMPORAL_PAYLOAD_LIMIT_BYTES = 2 * 1024 * 1024;

/** Longest message ID (MESSAGE_ID_PATTERN) and key ID (KEY_ID_PATTERN) allowed. */
const LONGEST_MESSAGE_ID = 128;
const LONGEST_KEY_ID = 64;

/**
 * Room for what travels with the text in the largest payload that holds it, the
 * deliverMessage activity's input (session and runtime IDs, the runtime URL, counters):
 * a generous bound, checked in test/codec/message-size.test.ts against the real input.
 */
export const MESSAGE_PAYLOAD_ENVELOPE_BYTES = 2048;

/** Bytes of the largest encrypted payload a message at the ceiling makes (its text JSON-encoded). */
export const LARGEST_MESSAGE_PAYLOAD_BYTES = encryptedPayloadBytes(MESSAGE_MAX_BYTES_CEILING + LONGEST_MESSAGE_ID + MESSAGE_PAYLOAD_ENVELOPE_BYTES, LONGEST_KEY_ID);

/** The worker's outbound payload warning (the SDK's default is 512 KiB): just above the largest legitimate message. */
export const PAYLOAD_WARN_BYTES = LARGEST_MESSAGE_PAYLOAD_BYTES + 1024;
