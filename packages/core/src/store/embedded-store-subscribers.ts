import type { ChangeEvent, ConfigListener, StoredItem } from './contract.js';

/**
 * Delivers the embedded store's snapshot and change events to ConfigSource listeners. Each listener
 * has its own FIFO queue: the snapshot is captured synchronously at `start`, later writes are queued
 * behind it, and the queue is drained on a later macrotask so a listener never runs inside `put`.
 */

type Delivery =
  | { readonly kind: 'snapshot'; readonly items: readonly StoredItem[]; readonly revision: number }
  | { readonly kind: 'changes'; readonly events: readonly ChangeEvent[]; readonly revision: number };

interface Subscriber {
  readonly prefix: string;
  readonly listener: ConfigListener;
  readonly queue: Delivery[];
  scheduled: boolean;
}

export interface SubscriberSet {
  add(prefix: string, listener: ConfigListener, snapshot: readonly StoredItem[], revision: number): void;
  /** Queues the events under each subscriber's prefix; `events` are in revision order. */
  publish(events: readonly ChangeEvent[]): void;
  clear(): void;
}

export function createSubscriberSet(onListenerError: (error: unknown) => void): SubscriberSet {
  const subscribers = new Set<Subscriber>();

  const drain = (subscriber: Subscriber): void => {
    subscriber.scheduled = false;
    while (subscribers.has(subscriber)) {
      const delivery = subscriber.queue.shift();
      if (delivery === undefined) return;
      try {
        if (delivery.kind === 'snapshot') subscriber.listener.onSnapshot(delivery.items, delivery.revision);
        else subscriber.listener.onChanges(delivery.events, delivery.revision);
      } catch (error) {
        onListenerError(error);
      }
    }
  };

  const enqueue = (subscriber: Subscriber, delivery: Delivery): void => {
    subscriber.queue.push(delivery);
    if (subscriber.scheduled) return;
    subscriber.scheduled = true;
    setImmediate(() => drain(subscriber));
  };

  return {
    add(prefix, listener, snapshot, revision) {
      const subscriber: Subscriber = { prefix, listener, queue: [], scheduled: false };
      subscribers.add(subscriber);
      enqueue(subscriber, { kind: 'snapshot', items: snapshot, revision });
    },
    publish(events) {
      const last = events.at(-1);
      if (last === undefined) return;
      const revision = eventRevision(last);
      for (const subscriber of subscribers) {
        const matching = events.filter((event) => eventKey(event).startsWith(subscriber.prefix));
        if (matching.length > 0) enqueue(subscriber, { kind: 'changes', events: matching, revision });
      }
    },
    clear() {
      subscribers.clear();
    },
  };
}

function eventKey(event: ChangeEvent): string {
  return event.type === 'put' ? event.item.key : event.key;
}

function eventRevision(event: ChangeEvent): number {
  return event.type === 'put' ? event.item.modRevision : event.modRevision;
}
