// Reading a batch's input at the edge: one JSON object per line with a non-empty
// `prompt`, checked by a zod schema, so a bad line is refused (with its number and
// the reason) before anything reaches Temporal or the store.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { InvalidInputError, MESSAGE_MAX_BYTES_CEILING, validateMessage } from '../workflows/validation.js';

const lineSchema = z.object({ prompt: z.string().min(1, 'prompt must not be empty') }).passthrough();

export interface BatchInput {
  readonly prompts: string[];
  /** sha256 of the file's bytes. */
  readonly digest: string;
}

/** `maxMessageBytes`: the batch's own override; else only what no runtime would accept is refused here (the deployment's limit is the workers'). */
export function parseBatchInput(text: string, maxMessageBytes = MESSAGE_MAX_BYTES_CEILING): BatchInput {
  const prompts: string[] = [];
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new InvalidInputError('input', `line ${i + 1}: not JSON; each line must be an object like {"prompt": "..."}`);
    }
    const parsed = lineSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InvalidInputError('input', `line ${i + 1}: ${issue?.path.join('.') || 'line'}: ${issue?.message ?? 'invalid'}; each line must be an object like {"prompt": "..."}`);
    }
    try {
      // The same rules as any message (not blank, within the size a runtime accepts).
      validateMessage({ messageId: 'item', text: parsed.data.prompt }, maxMessageBytes);
    } catch (error) {
      if (error instanceof InvalidInputError) throw new InvalidInputError('input', `line ${i + 1}: prompt: ${error.message}`);
      throw error;
    }
    prompts.push(parsed.data.prompt);
  }
  if (prompts.length === 0) throw new InvalidInputError('input', 'the input has no items: give one JSON object with a "prompt" per line');
  return { prompts, digest: createHash('sha256').update(text).digest('hex') };
}
