import { z } from 'zod';
import { loadTarget, refuseUnknownSenderSettings } from '#local/target.ts';
import { UsageError } from '#local/errors.ts';
import { destroyAwsClients } from '#shared/aws/clients.ts';
import { cliAwsClients } from '#local/aws-errors.ts';
import { createSesMailer } from '#shared/delivery/ses-mailer.ts';
import { ClienteleError } from '#shared/errors.ts';
import { jsonLog, maskEmail, newRunId } from '#shared/log.ts';
import { internalDomains, isInternalAddress, testSubject } from '#shared/sender/test-email.ts';
import { templateLocale } from '#shared/templates/locale.ts';
import { chooseEmail, emailChoiceSchema } from './preview.ts';

const optionsSchema = emailChoiceSchema.extend({
  to: z.email({ error: '--to must be an email address' }),
  allowExternal: z.boolean().default(false),
  json: z.boolean().default(false),
});

/**
 * `clientele send-test --campaign C --to ADDRESS [--customer ID | --locale L --tier T]`: renders the
 * campaign's email as the sender would and sends it through SES (the local SES emulator's inbox
 * when the config names one) to one of the brand's own addresses, its subject marked [TEST]. It
 * goes straight to the mailer: no ledger entry, no frequency cap, no coupon code used up, and its
 * unsubscribe link suppresses nobody. An address outside sender.internalDomains (default: the
 * domain of sender.fromAddress) is refused unless --allow-external: a test must not reach a client.
 */
export async function sendTestCommand(raw: unknown): Promise<void> {
  const options = optionsSchema.parse(raw);
  const target = await loadTarget('send-test', options);
  const { config } = target;
  refuseUnknownSenderSettings('send-test', target);
  const domains = internalDomains(config.sender);
  if (!options.allowExternal && !isInternalAddress(options.to, domains)) {
    throw new UsageError(
      `--to ${maskEmail(options.to) ?? ''} is not at an internal domain (${domains.join(', ') || 'none configured'}): a test email goes to the brand's own people. ` +
        'List the domain in sender.internalDomains, or pass --allow-external to send it anyway.',
    );
  }
  const log = jsonLog({ level: 'warn' }).child({ runId: newRunId('send-test'), job: 'send-test' });
  const clients = cliAwsClients(config);
  try {
    // Never the stack's key: a test email's unsubscribe link must suppress nobody there.
    const secret = process.env.UNSUBSCRIBE_SECRET ?? 'send-test-secret-links-of-a-test-suppress-nobody';
    const { profile, occasion, madeUp, email } = await chooseEmail(options, config, clients, secret, 'test');
    const locale = templateLocale(profile.locale);
    const mailer = createSesMailer(clients.ses, { maxSendRate: 1, log });
    const outcome = await mailer.send({
      to: options.to,
      from: email.from,
      ...(email.replyTo === undefined ? {} : { replyTo: email.replyTo }),
      subject: testSubject(email.subject, locale),
      html: email.html,
      text: email.text,
      ...(config.sender.configurationSetName ? { configurationSetName: config.sender.configurationSetName } : {}),
      tags: { campaign: occasion.campaignId, test: 'true' },
      listUnsubscribeUrl: email.unsubscribeUrl,
    });
    const who = madeUp ? `a made-up ${profile.tier} client` : `customer ${profile.customerId}`;
    const result = {
      campaign: occasion.campaignId,
      occasionKey: occasion.occasionKey,
      client: who,
      locale,
      to: options.to,
      subject: testSubject(email.subject, locale),
      status: outcome.status,
      ...(outcome.status === 'sent' ? { messageId: outcome.messageId } : { reason: outcome.reason }),
      ...(config.endpoints.ses ? { inbox: config.endpoints.ses } : {}),
    };
    if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else if (outcome.status === 'sent') {
      process.stdout.write(
        `Sent a test of ${occasion.campaignId} (${locale}, ${who}) to ${options.to}: "${result.subject}", SES message ${outcome.messageId}.\n` +
          'Not recorded in the send ledger; counts toward no cap.\n' +
          (config.endpoints.ses ? `Local inbox: ${config.endpoints.ses}/\n` : ''),
      );
    }
    if (outcome.status !== 'sent') throw new ClienteleError('SEND_TEST_FAILED', `The test email was not sent (${outcome.status}): ${outcome.reason}`);
  } finally {
    destroyAwsClients(clients);
  }
}
