import type { EventStore, StoredEvent } from './event-store.port';

/**
 * The global log after `afterPosition`, page by page, in position order.
 *
 * Positions are not dense, and some stores (KurrentDB) can start a read only at an event's own
 * position, never at "last + 1": each page is read from the last event already seen, which is
 * then dropped. The first page starts at the beginning of the log, or at `afterPosition` itself.
 */
export async function* readAllPages(store: EventStore, options: { afterPosition?: number; pageSize?: number } = {}): AsyncGenerator<StoredEvent[]> {
  const pageSize = options.pageSize ?? 1_000;
  let position = options.afterPosition ?? 0;
  for (;;) {
    const read = await store.readAll({ ...(position > 0 ? { fromPosition: position } : {}), maxCount: pageSize + 1 });
    const page = read.filter((event) => event.position > position);
    if (page.length === 0) return;
    yield page;
    position = page[page.length - 1]!.position;
  }
}
