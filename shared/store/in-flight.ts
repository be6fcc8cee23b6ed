/**
 * Runs `work` on each item with at most `concurrency` of them in flight, in the items' order of
 * start: how the stores send many requests (or batches) to DynamoDB without waiting for each one,
 * nor sending them all at once. Rejects with the first error.
 */
export async function forEachInFlight<T>(items: Iterable<T>, concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  const iterator = items[Symbol.iterator]();
  const worker = async () => {
    for (let next = iterator.next(); !next.done; next = iterator.next()) await work(next.value);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
