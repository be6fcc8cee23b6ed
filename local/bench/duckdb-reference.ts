import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Tier } from '#shared/model.ts';

/**
 * The reference: the same aggregation (12-month net spend, counted orders, last order, tier)
 * done by DuckDB on the same CSV files. Rows our reader rejects are filtered out with TRY_CAST
 * and the same validity rules (generic format, USD, 2-decimal amounts), so both sides see the
 * same lines.
 */

export interface DuckDbResult {
  wallMs: number;
  validLines: number;
  invalidLines: number;
  clients: number;
  tiers: Record<Tier, number>;
  spend12mMinorTotal: number;
  orderCountTotal: number;
  version: string;
}

export interface DuckDbWindow {
  /** e.g. '2025-11-24 00:00:00+08' */
  windowStart: string;
  /** e.g. '2026-11-24 00:00:00+08' (the run's clock: nothing at or after it counts). */
  windowEnd: string;
  /** Minor units (USD cents). */
  thresholds: { vic: number; core: number; potential: number };
}

const quote = (value: string) => `'${value.replaceAll("'", "''")}'`;

export function referenceSql(customersFile: string, orderFiles: readonly string[], w: DuckDbWindow): string {
  const files = `[${orderFiles.map(quote).join(', ')}]`;
  return `
WITH raw AS (
  SELECT
    NULLIF(trim(customer_id), '') AS customer_id,
    NULLIF(trim(order_id), '') AS order_id,
    TRY_CAST(trim(ordered_at) AS TIMESTAMPTZ) AS ts,
    TRY_CAST(trim(line_total) AS DECIMAL(18, 2)) AS total,
    NULLIF(trim(refunded_amount), '') AS refunded_text,
    TRY_CAST(NULLIF(trim(refunded_amount), '') AS DECIMAL(18, 2)) AS refunded,
    COALESCE(lower(NULLIF(trim(status), '')), 'paid') AS status,
    upper(COALESCE(NULLIF(trim(currency), ''), 'USD')) AS currency
  FROM read_csv(${files}, header = true, all_varchar = true, auto_detect = false,
    columns = {'order_id': 'VARCHAR', 'customer_id': 'VARCHAR', 'ordered_at': 'VARCHAR', 'sku': 'VARCHAR',
               'product_name': 'VARCHAR', 'category': 'VARCHAR', 'quantity': 'VARCHAR', 'line_total': 'VARCHAR',
               'currency': 'VARCHAR', 'status': 'VARCHAR', 'refunded_amount': 'VARCHAR'})
),
checked AS (
  SELECT *,
    customer_id IS NOT NULL AND order_id IS NOT NULL AND ts IS NOT NULL
      AND total IS NOT NULL AND total >= 0
      AND (refunded_text IS NULL OR (refunded IS NOT NULL AND refunded >= 0))
      -- An invalid quantity only drops to 1 with a warning (it counts units, not money): no condition.
      -- ordered_at from 1970 to a day past the run's clock; a line total up to exports.maxLineTotal's default.
      AND ts >= TIMESTAMPTZ '1970-01-01 00:00:00+00' AND ts <= TIMESTAMPTZ ${quote(w.windowEnd)} + INTERVAL 1 DAY
      AND total <= 10000000
      AND status IN ('paid', 'refunded', 'cancelled')
      AND currency = 'USD' AS valid
  FROM raw
),
lines AS (
  SELECT customer_id, order_id, ts,
    CAST(total * 100 AS BIGINT) AS total_minor,
    CAST(COALESCE(refunded, CASE WHEN status = 'refunded' THEN total ELSE 0 END) * 100 AS BIGINT) AS refunded_minor,
    status
  FROM checked WHERE valid AND ts < TIMESTAMPTZ ${quote(w.windowEnd)}
),
nets AS (
  SELECT customer_id, order_id, ts,
    CASE WHEN status = 'cancelled' THEN 0
         WHEN status = 'refunded' AND refunded_minor = 0 THEN 0
         WHEN total_minor <= 0 THEN 0
         ELSE total_minor - LEAST(refunded_minor, total_minor) END AS net
  FROM lines
),
orders AS (
  SELECT customer_id, order_id, min(ts) AS ts, sum(net) AS net FROM nets GROUP BY customer_id, order_id
),
per_client AS (
  SELECT customer_id,
    COALESCE(sum(net) FILTER (WHERE ts >= TIMESTAMPTZ ${quote(w.windowStart)}), 0) AS spend12m,
    count(*) FILTER (WHERE net > 0) AS order_count,
    max(ts) FILTER (WHERE net > 0) AS last_order
  FROM orders GROUP BY customer_id
),
customers AS (
  SELECT DISTINCT NULLIF(trim(customer_id), '') AS customer_id
  FROM read_csv(${quote(customersFile)}, header = true, all_varchar = true)
  WHERE NULLIF(trim(customer_id), '') IS NOT NULL
),
clients AS (
  SELECT COALESCE(c.customer_id, p.customer_id) AS customer_id,
    COALESCE(p.spend12m, 0) AS spend12m, COALESCE(p.order_count, 0) AS order_count, p.last_order
  FROM customers c FULL OUTER JOIN per_client p ON c.customer_id = p.customer_id
),
tiered AS (
  SELECT *, CASE
    WHEN spend12m >= ${w.thresholds.vic} THEN 'VIC'
    WHEN spend12m >= ${w.thresholds.core} THEN 'Core'
    WHEN spend12m >= ${w.thresholds.potential} THEN 'Potential'
    WHEN order_count > 0 OR spend12m > 0 THEN 'Entry'
    ELSE 'Prospect' END AS tier
  FROM clients
)
SELECT
  (SELECT count(*) FROM checked WHERE valid) AS valid_lines,
  (SELECT count(*) FROM checked WHERE NOT valid) AS invalid_lines,
  count(*) AS clients,
  count(*) FILTER (WHERE tier = 'VIC') AS vic,
  count(*) FILTER (WHERE tier = 'Core') AS core,
  count(*) FILTER (WHERE tier = 'Potential') AS potential,
  count(*) FILTER (WHERE tier = 'Entry') AS entry,
  count(*) FILTER (WHERE tier = 'Prospect') AS prospect,
  sum(spend12m) AS spend12m_total,
  sum(order_count) AS order_count_total,
  max(last_order) AS last_order
FROM tiered`;
}

/**
 * The part of @duckdb/node-api used here. The package is installed by `npm run bench` itself, not
 * kept in package.json: its lock entry names platform binaries this project's registry mirror does
 * not serve, which would break `npm ci` for everyone.
 */
interface DuckDbModule {
  DuckDBInstance: {
    create(path: string): Promise<{
      connect(): Promise<{
        run(sql: string): Promise<unknown>;
        runAndReadAll(sql: string): Promise<{ getRowObjectsJS(): Record<string, unknown>[] }>;
        closeSync(): void;
      }>;
      closeSync(): void;
    }>;
  };
}

const DUCKDB_PACKAGE = '@duckdb/node-api';

export async function runDuckDbReference(dir: string, window: DuckDbWindow): Promise<DuckDbResult> {
  const { DuckDBInstance } = (await import(DUCKDB_PACKAGE)) as DuckDbModule;
  const names = readdirSync(dir);
  const orderFiles = names.filter((n) => /^orders.*\.csv$/.test(n)).sort().map((n) => join(dir, n));
  const customersFile = join(dir, names.find((n) => /^customers.*\.csv$/.test(n)) ?? 'customers.csv');
  const started = performance.now();
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    const reader = await connection.runAndReadAll(referenceSql(customersFile, orderFiles, window));
    const row = reader.getRowObjectsJS()[0] as Record<string, unknown>;
    const wallMs = performance.now() - started;
    const n = (key: string) => Number(row[key] ?? 0);
    const version = (await connection.runAndReadAll('SELECT version() AS v')).getRowObjectsJS()[0]?.v;
    return {
      wallMs,
      validLines: n('valid_lines'),
      invalidLines: n('invalid_lines'),
      clients: n('clients'),
      tiers: { VIC: n('vic'), Core: n('core'), Potential: n('potential'), Entry: n('entry'), Prospect: n('prospect') },
      spend12mMinorTotal: n('spend12m_total'),
      orderCountTotal: n('order_count_total'),
      version: String(version),
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await runDuckDbReference(process.argv[2] ?? '.', {
    windowStart: '2025-11-24 00:00:00+08',
    windowEnd: '2026-11-24 00:00:00+08',
    thresholds: { vic: 5_000_000, core: 500_000, potential: 100_000 },
  });
  console.log(JSON.stringify(result));
}
