/**
 * A value built on first use and kept for the life of the process (a Lambda container): how every function
 * holds its dependencies. A build that throws is tried again on the next call.
 */
export function lazy<T>(build: () => T): () => T {
  let value: { built: T } | undefined;
  return () => (value ??= { built: build() }).built;
}
