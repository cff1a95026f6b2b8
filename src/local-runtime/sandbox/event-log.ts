// A conversation's event log: append-only, kept in (timestamp, sequence) order, read
// in cursor pages like the agent-server's `events/search`, and followed live by the
// event socket's subscribers.
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { unprocessable } from '../../http-server/errors.js';
import type { AgentEvent, EventPage, eventSearchQuerySchema } from '../../runtime-api/agent-server-schemas.js';

export type EventSearch = z.output<typeof eventSearchQuerySchema>;
export type EventCount = Pick<EventSearch, 'kind' | 'source' | 'timestamp__gte'>;

export interface EventListener {
  event(event: AgentEvent): void;
  end(): void;
}

export class EventLog {
  readonly #events: AgentEvent[] = [];
  readonly #indexById = new Map<string, number>();
  readonly #listeners = new Set<EventListener>();
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
    for (const listener of this.#listeners) listener.event(event);
    return event;
  }

  /** Events at or after `ms` (epoch milliseconds), oldest first. */
  since(ms: number): AgentEvent[] {
    return this.#events.filter((event) => Date.parse(event.timestamp) >= ms);
  }

  /** Hands `listener` every event appended from now on, in order; returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Ends every subscription (the conversation is gone). */
  close(): void {
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    for (const listener of listeners) listener.end();
  }

  /** One page; `next_page_id` is the id of the first event of the next page, as on the real server. */
  search({ page_id, limit, sort_order, ...filter }: EventSearch): EventPage {
    const step = sort_order === 'TIMESTAMP_DESC' ? -1 : 1;
    const items: AgentEvent[] = [];
    let index = page_id === undefined ? (step === 1 ? 0 : this.#events.length - 1) : this.#indexOf(page_id);
    for (; index >= 0 && index < this.#events.length; index += step) {
      const event = this.#events[index] as AgentEvent;
      if (!matches(event, filter)) continue;
      if (items.length === limit) return { items, next_page_id: event.id };
      items.push(event);
    }
    return { items, next_page_id: null };
  }

  count(filter: EventCount): number {
    return this.#events.filter((event) => matches(event, filter)).length;
  }

  #indexOf(pageId: string): number {
    const index = this.#indexById.get(pageId);
    if (index === undefined) throw unprocessable([{ loc: ['page_id'], msg: 'unknown page_id' }]);
    return index;
  }
}

/** Timestamps here are ISO strings of one format, so comparing them as text compares times. */
function matches(event: AgentEvent, { kind, source, timestamp__gte }: EventCount): boolean {
  return (
    (kind === undefined || event.kind === kind) &&
    (source === undefined || event.source === source) &&
    (timestamp__gte === undefined || event.timestamp >= timestamp__gte)
  );
}
