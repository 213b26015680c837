import type { LifecycleEvent } from '#lib/outbox/events.ts';
import type { EventPublisher } from '#lib/outbox/publisher.ts';

export interface FakePublisher extends EventPublisher {
  /** Every event sent to the provisioning queue, in order. */
  published: LifecycleEvent[];
  /** The next `times` publishes send nothing and answer every id unsent (the queue is unreachable). */
  failNext(times?: number): void;
}

/** The provisioning queue as the publisher sees it: it keeps what it is sent. */
export function fakePublisher(): FakePublisher {
  let failing = 0;
  const published: LifecycleEvent[] = [];
  return {
    published,
    failNext(times = 1) {
      failing += times;
    },
    async publish(events) {
      if (failing > 0) {
        failing--;
        return events.map((e) => e.eventId);
      }
      published.push(...structuredClone(events));
      return [];
    },
  };
}
