/** The overview's count of usage pushes from a page of the message log (channel usagePush). (Pure, unit-tested.) */
import type { Message } from './types.ts';

export interface PushCounts {
  pushes: number;
  acceptedRecords: number;
  refusedPushes: number;
  refusedRecords: number;
  /** More pushes than one page: the counts are of the latest ones. */
  more: boolean;
}

/** The usage pushes of a page of the message log: accepted (000000) and refused or failed, with their records. */
export function pushCounts(page: { items: Message[]; nextCursor?: string | undefined }): PushCounts {
  const counts = {
    pushes: page.items.length,
    acceptedRecords: 0,
    refusedPushes: 0,
    refusedRecords: 0,
    more: page.nextCursor !== undefined,
  };
  for (const push of page.items) {
    if (push.resultCode === '000000') counts.acceptedRecords += push.records ?? 0;
    else {
      counts.refusedPushes += 1;
      counts.refusedRecords += push.records ?? 0;
    }
  }
  return counts;
}
