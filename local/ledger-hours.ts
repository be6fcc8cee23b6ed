import type { AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { claimHourOf, claimHoursBetween, ledgerStatusesOfHour } from '#shared/store/ledger-store.ts';
import { tableName } from '#shared/store/tables.ts';

/** A campaign occasion as the send ledger holds it: each once, in its last state. */
export interface LedgerOccasion {
  customerId: string;
  campaignId: string;
  /** The ledger status: sent, held-out, capped, deferred, expired... ('claimed': not resolved yet). */
  state: string;
  /** The UTC hour of its last claim or decision, e.g. '2026-11-23T10'. */
  claimHour: string;
}

/**
 * The campaign occasions whose last claim or decision fell in the hours from `from` to `until`
 * (epoch ms), through the ledger's byClaimHour index. The same ledger keeps the team email and the
 * advisor digests once-only: those entries are left out (only the config's campaigns count).
 */
export async function ledgerOccasions(clients: Pick<AwsClients, 'documents'>, config: Config, from: number, until: number): Promise<LedgerOccasion[]> {
  const campaignIds = new Set(config.campaigns.campaigns.map((c) => c.id));
  const occasions: LedgerOccasion[] = [];
  for (const hour of claimHoursBetween(from, until)) {
    const items = await ledgerStatusesOfHour(clients.documents, tableName(config, 'sendLedger'), hour);
    for (const item of items) {
      if (campaignIds.has(item.campaignId)) occasions.push({ customerId: item.customerId, campaignId: item.campaignId, state: item.status, claimHour: hour });
    }
  }
  return occasions;
}

/** The epoch ms an hour of the index starts at ('2026-11-23T10' → 2026-11-23T10:00:00Z). */
export function claimHourStart(hour: string): number {
  return Date.parse(`${hour}:00:00.000Z`);
}

export { claimHourOf };
