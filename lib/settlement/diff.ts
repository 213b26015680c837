import type { TextSink } from './files.ts';
import { ChunkedSink, type LineObserver } from './render.ts';

/**
 * What changed between two versions of a statement, as JSON Lines sorted by lineId: a streaming merge-join of the
 * previous version's lines file with the new lines as they are written, so neither version is held in memory.
 *   {"change":"added","lineId":…,"after":{…}}
 *   {"change":"removed","lineId":…,"before":{…}}
 *   {"change":"changed","lineId":…,"before":{…},"after":{…}}
 */

export interface DiffSummary {
  added: number;
  removed: number;
  changed: number;
}

export interface StatementDiff extends LineObserver {
  /** Writes what is left of the previous version (removed lines) and returns the counts; the sink is flushed, not closed. */
  finish(): Promise<DiffSummary>;
  /** Stops reading the previous version (after an error). */
  close(): Promise<void>;
}

const lineIdOf = (json: string): string => {
  const value: unknown = JSON.parse(json);
  const id = value !== null && typeof value === 'object' ? (value as { lineId?: unknown }).lineId : undefined;
  if (typeof id !== 'string') throw new Error(`previous version's line has no lineId: ${json.slice(0, 200)}`);
  return id;
};

/** `previous`: the previous version's lines file (JSON Lines sorted by lineId), in batches. */
export function statementDiff(previous: AsyncIterable<string[]>, sink: TextSink): StatementDiff {
  const out = new ChunkedSink(sink);
  const source = previous[Symbol.asyncIterator]();
  let batch: string[] = [];
  let index = 0;
  let started = false;
  let head: { id: string; json: string } | undefined;
  const counts: DiffSummary = { added: 0, removed: 0, changed: 0 };

  async function advance(): Promise<void> {
    while (index >= batch.length) {
      const next = await source.next();
      if (next.done) {
        head = undefined;
        return;
      }
      batch = next.value;
      index = 0;
    }
    const json = batch[index++]!;
    const id = lineIdOf(json);
    if (head !== undefined && !(head.id < id)) throw new Error(`previous version's lines are not sorted: "${id}" after "${head.id}"`);
    head = { id, json };
  }

  const ensureStarted = async () => {
    if (!started) {
      started = true;
      await advance();
    }
  };

  const removed = async (h: { id: string; json: string }) => {
    counts.removed++;
    await out.write(`{"change":"removed","lineId":${JSON.stringify(h.id)},"before":${h.json}}\n`);
  };

  return {
    async line(lineId, json) {
      await ensureStarted();
      while (head !== undefined && head.id < lineId) {
        await removed(head);
        await advance();
      }
      if (head !== undefined && head.id === lineId) {
        if (head.json !== json) {
          counts.changed++;
          await out.write(`{"change":"changed","lineId":${JSON.stringify(lineId)},"before":${head.json},"after":${json}}\n`);
        }
        await advance();
        return;
      }
      counts.added++;
      await out.write(`{"change":"added","lineId":${JSON.stringify(lineId)},"after":${json}}\n`);
    },
    async finish() {
      await ensureStarted();
      while (head !== undefined) {
        await removed(head);
        await advance();
      }
      await out.flush();
      return { ...counts };
    },
    async close() {
      await source.return?.();
    },
  };
}
