import { GetAccountCommand, type GetAccountCommandOutput } from '@aws-sdk/client-sesv2';
import { z } from 'zod';
import { redactEmails } from './outcome.ts';
import type { AccountReading, SesAccount } from './sending-plan.ts';

/**
 * Reads the SES account's sending status and quota (SESv2 GetAccount), validated at the edge.
 * The deployed sender needs `ses:GetAccount` (an account-level action: resource "*").
 */

/** What the reader needs of an SESv2Client. */
export interface AccountSender {
  send(command: GetAccountCommand): Promise<GetAccountCommandOutput>;
}

/** Reads the account; a seam for what no emulator answers (tests may hand in their own). */
export interface SesAccountReader {
  read(): Promise<SesAccount>;
}

const accountSchema = z.object({
  SendingEnabled: z.boolean(),
  ProductionAccessEnabled: z.boolean(),
  SendQuota: z.object({
    Max24HourSend: z.number(),
    SentLast24Hours: z.number().min(0),
    MaxSendRate: z.number().min(0),
  }),
});

export function sesAccountReader(ses: AccountSender): SesAccountReader {
  return {
    async read() {
      const output = await ses.send(new GetAccountCommand({}));
      const parsed = accountSchema.safeParse(output);
      if (!parsed.success) throw new Error(`GetAccount answered without ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
      const { SendingEnabled, ProductionAccessEnabled, SendQuota } = parsed.data;
      return {
        sendingEnabled: SendingEnabled,
        productionAccess: ProductionAccessEnabled,
        max24HourSend: SendQuota.Max24HourSend,
        sentLast24Hours: SendQuota.SentLast24Hours,
        maxSendRate: SendQuota.MaxSendRate,
      };
    },
  };
}

/** The account, or why it could not be read (never throws: a run without it falls back to its configured rate). */
export async function readAccount(reader: SesAccountReader): Promise<AccountReading> {
  try {
    return { ok: true, account: await reader.read() };
  } catch (error) {
    const name = error instanceof Error ? error.name : 'UnknownError';
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: redactEmails(`${name}: ${message}`) };
  }
}
