// A conversation's event log: append-only, kept in (timestamp, sequence) order and read
// in cursor pages like the agent-server's `events/search`.
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { unprocessable } from '../../http-server/errors.js';
import type { AgentEvent, EventPage, eventSearchQuerySchema } from '../../runtime-api/agent-server-schemas.js';

export type EventSearch = z.output<typeof eventSearchQuerySchema>;

export class EventLog {
  readonly #events: AgentEvent[] = [];
  readonly #indexById = new Map<string, number>();
  #lastMs = 0;

  get size(): number {
    return this.#events.length;
  }

  append(kind: string, source: string, fields: Record<string, unknown> = {}): AgentEvent {
    // Timestamps never go backwards within one log even if the wall clock does, so
    // insertion order is (timestamp, sequence) order and a cursor is just a position.
    this.#lastMs = Math.max(Date.now(), this.#lastMs);
    const head = { id: randomUUID(), kind, source, timestamp: new Date(this.#lastMs).toISOString() };
    // `head` twice: its keys come first in the JSON, and no field can overwrite them.
    const event: AgentEvent = Object.assign({}, head, fields, head);
    this.#indexById.set(event.id, this.#events.length);
    this.#events.push(event);
    return event;
  }

  /** One page; `next_page_id` is the id of the first event of the next page, as on the real server. */
  search({ page_id, limit, kind, sort_order }: EventSearch): EventPage {
    const step = sort_order === 'TIMESTAMP_DESC' ? -1 : 1;
    const items: AgentEvent[] = [];
    let index = page_id === undefined ? (step === 1 ? 0 : this.#events.length - 1) : this.#indexOf(page_id);
    for (; index >= 0 && index < this.#events.length; index += step) {
      const event = this.#events[index] as AgentEvent;
      if (kind !== undefined && event.kind !== kind) continue;
      if (items.length === limit) return { items, next_page_id: event.id };
      items.push(event);
    }
    return { items, next_page_id: null };
  }

  #indexOf(pageId: string): number {
    const index = this.#indexById.get(pageId);
    if (index === undefined) throw unprocessable([{ loc: ['page_id'], msg: 'unknown page_id' }]);
    return index;
  }
}
