/** One page of a DynamoDB Query or Scan, as lib-dynamodb returns it. */
export interface ItemPage {
  Items?: Record<string, unknown>[];
  LastEvaluatedKey?: Record<string, unknown>;
}

/**
 * Every item of a paginated Query or Scan: `fetchPage` sends the request with the given
 * ExclusiveStartKey (undefined for the first page), and pages follow until none is left.
 */
export async function* paginate<T = Record<string, unknown>>(
  fetchPage: (startKey: Record<string, unknown> | undefined) => Promise<ItemPage>,
): AsyncGenerator<T> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await fetchPage(startKey);
    // The caller names the item type its table stores (DynamoDB returns them untyped).
    yield* (page.Items ?? []) as T[];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

/** paginate(), gathered into an array. */
export async function collectPages<T = Record<string, unknown>>(
  fetchPage: (startKey: Record<string, unknown> | undefined) => Promise<ItemPage>,
): Promise<T[]> {
  const items: T[] = [];
  for await (const item of paginate<T>(fetchPage)) items.push(item);
  return items;
}
