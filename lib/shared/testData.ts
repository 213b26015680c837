/** Epoch seconds at which a test item expires, or nothing for real data. */
export type Expiry = number | undefined;

const DAY_SECONDS = 24 * 3600;

/** When a test record's items expire: `ttlDays` after its creation (law 8). Real records never expire. */
export function testExpiry(record: { test: boolean; createdAt: string }, ttlDays: number): Expiry {
  return record.test ? Math.floor(Date.parse(record.createdAt) / 1000) + ttlDays * DAY_SECONDS : undefined;
}
