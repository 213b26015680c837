/** An epoch-milliseconds instant as ISO 8601 UTC. */
export const iso = (ms: number): string => new Date(ms).toISOString();

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
