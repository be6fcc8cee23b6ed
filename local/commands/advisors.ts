import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { loadTarget, targetOptionsSchema } from '#local/target.ts';
import { csvRow } from '#local/generate/csv.ts';
import { isBookClient } from '#shared/advisors/book.ts';
import { planBooks, type BookPlan, type PlanClient } from '#shared/advisors/plan.ts';
import { knownAdvisors } from '#shared/advisors/roster.ts';
import { readRoster } from '#shared/store/roster-store.ts';
import { destroyAwsClients } from '#shared/aws/clients.ts';
import { cliAwsClients } from '#local/aws-errors.ts';
import { scanProfiles } from '#shared/store/profile-store.ts';
import { tableName } from '#shared/store/tables.ts';

const optionsSchema = targetOptionsSchema.extend({
  out: z.string().min(1),
  json: z.boolean(),
});

/** The header of the plan's CSV: what the brand loads into its platform (which owns advisor_id). */
export const PLAN_CSV_HEADER = ['customer_id', 'advisor_id', 'reason'] as const;

/** The plan as CSV: one row per proposed pair. */
export function planCsv(plan: Pick<BookPlan, 'proposals'>): string {
  return csvRow(PLAN_CSV_HEADER) + plan.proposals.map((p) => csvRow([p.customerId, p.advisorId, p.reason])).join('');
}

/**
 * `clientele advisors plan --out FILE`: proposes an advisor for every book client (VIC, Core,
 * rising Potential) without an active one, balancing books to config.advisors.bookSize, and writes
 * the pairs as CSV for the brand to review and load into its platform. Changes nothing stored:
 * the platform owns advisor_id, and the next export brings the pairs the brand kept.
 */
export async function advisorsPlanCommand(raw: unknown): Promise<void> {
  const options = optionsSchema.parse(raw);
  const config = (await loadTarget('advisors plan', options)).config;
  const clients = cliAwsClients(config);
  try {
    const advisors = knownAdvisors(await readRoster(clients.s3, config), config);
    const bookClients: PlanClient[] = [];
    for await (const profile of scanProfiles(clients.documents, tableName(config, 'profiles'))) {
      if (!isBookClient(profile)) continue;
      bookClients.push({
        customerId: profile.customerId,
        tier: profile.tier,
        rankValueMinor: profile.clv?.clv12mMinor ?? profile.spend12mMinor,
        ...(profile.locale === undefined ? {} : { locale: profile.locale }),
        ...(profile.advisorId === undefined ? {} : { advisorId: profile.advisorId }),
      });
    }
    const plan = planBooks({ clients: bookClients, advisors, bookSize: config.advisors.bookSize });
    const out = resolve(options.out);
    await writeFile(out, planCsv(plan));
    const summary = { out, bookClients: bookClients.length, proposed: plan.proposals.length, unplaced: plan.unplaced.length, bookSize: config.advisors.bookSize, books: plan.books };
    if (options.json) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      return;
    }
    const lines = [
      `${plan.proposals.length} of ${bookClients.length} book clients proposed an advisor (books of ${config.advisors.bookSize.min}-${config.advisors.bookSize.max}); written to ${out}`,
      ...(plan.unplaced.length > 0 ? [`${plan.unplaced.length} left without one: every active advisor's book is full`] : []),
      ...plan.books.map((b) => `  ${b.advisorId}: ${b.kept} kept + ${b.proposed} proposed = ${b.kept + b.proposed}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    destroyAwsClients(clients);
  }
}
