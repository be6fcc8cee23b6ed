import { SendEmailCommand, type MessageHeader, type MessageTag, type SendEmailCommandOutput } from '@aws-sdk/client-sesv2';
import { isOneClickUrl, type Config } from '#shared/config.ts';
import { ClienteleError } from '#shared/errors.ts';
import { CUSTOMER_ID_TAG, customerIdTags } from './customer-id-tag.ts';

/**
 * One email as SES v2 SendEmail takes it: Simple content (subject, HTML and text in UTF-8), the
 * From address with an optional display name, the one-click unsubscribe headers, message tags.
 * Pure: checks and builds the request; sending is the mailer's.
 */

export interface OutgoingEmail {
  to: string;
  /** 'hello@brand.com' or 'Maison <hello@brand.com>' (a non-ASCII name is encoded for SES). */
  from: string;
  /** Where replies go when not to `from`: the advisor a personal note is sent in the name of. */
  replyTo?: string;
  subject: string;
  html: string;
  text: string;
  configurationSetName?: string;
  /**
   * Message tags (campaign, tier...) for SES events; names and values are sanitised to [A-Za-z0-9_-],
   * but for `customerId`, the client's id, carried so the feedback can read it back (customer-id-tag.ts).
   */
  tags: Record<string, string>;
  /**
   * The one-click unsubscribe URL (RFC 8058): https, or http on a loopback host for the local demo.
   * Every email to a client carries one; only the brand's own operational emails (the nightly
   * report to the team's configured addresses) go without List-Unsubscribe headers.
   */
  listUnsubscribeUrl?: string;
  /** Optional mailto alternative, with or without the `mailto:` prefix. */
  listUnsubscribeMailto?: string;
}

/**
 * An email from the brand to its own people (an advisor's task or digest, the team's nightly
 * report): from the brand's address, in its configuration set, without unsubscribe headers.
 */
export function internalEmail(
  sender: Pick<Config['sender'], 'fromAddress' | 'configurationSetName'>,
  to: string,
  content: { subject: string; html: string; text: string },
  tags: Record<string, string>,
): OutgoingEmail {
  return {
    to,
    from: sender.fromAddress,
    subject: content.subject,
    html: content.html,
    text: content.text,
    ...(sender.configurationSetName ? { configurationSetName: sender.configurationSetName } : {}),
    tags,
  };
}

/**
 * An email to a client (a campaign, an advisor's introduction): From and Reply-To as composed (the
 * brand's, or "Advisor via Brand" replying to the advisor), with the one-click unsubscribe headers.
 */
export function clientEmail(
  sender: Pick<Config['sender'], 'configurationSetName' | 'unsubscribeMailto'>,
  to: string,
  content: { subject: string; html: string; text: string; from: string; replyTo?: string; unsubscribeUrl: string },
  tags: Record<string, string>,
): OutgoingEmail {
  return {
    to,
    from: content.from,
    ...(content.replyTo === undefined ? {} : { replyTo: content.replyTo }),
    subject: content.subject,
    html: content.html,
    text: content.text,
    ...(sender.configurationSetName ? { configurationSetName: sender.configurationSetName } : {}),
    tags,
    listUnsubscribeUrl: content.unsubscribeUrl,
    ...(sender.unsubscribeMailto ? { listUnsubscribeMailto: sender.unsubscribeMailto } : {}),
  };
}

/** What the mailer needs of an SESv2Client (tests wrap the real one). */
export interface SesSender {
  send(command: SendEmailCommand): Promise<SendEmailCommandOutput>;
}

export class InvalidEmailError extends ClienteleError {
  override name = 'InvalidEmailError';
  constructor(message: string, options?: ErrorOptions) {
    super('EMAIL_INVALID', message, options);
  }
}

const TAG_MAX = 256;

/** SES tag names and values: ASCII letters, digits, '_' and '-', at most 256 characters, not empty. */
export function sanitizeTag(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, TAG_MAX);
  return cleaned.length > 0 ? cleaned : '_';
}

export function emailTags(tags: Record<string, string>): MessageTag[] {
  const byName = new Map<string, string>();
  for (const [name, value] of Object.entries(tags)) {
    // Sanitised, the id would name another client (or none) when its bounce comes back.
    if (name === CUSTOMER_ID_TAG) for (const [idName, idValue] of Object.entries(customerIdTags(value))) byName.set(idName, idValue);
    else byName.set(sanitizeTag(name), sanitizeTag(value));
  }
  return [...byName].map(([Name, Value]) => ({ Name, Value }));
}

// Printable ASCII without spaces, one '@', a dotted domain: what SES takes (IDN domains must be punycode).
const ADDRESS = /^[!#-'*+\-./0-9=?A-Z^-~]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/**
 * Whether SES would take the address as a recipient. Besides the characters (ADDRESS), RFC 5321's
 * sizes (a local part of at most 64 octets, a domain of at most 253, labels of at most 63) and a
 * dot-atom local part (no dot first, last or twice in a row): SES refuses those as a bad request,
 * which says nothing of the recipient to the run (outcome.ts), so each hour would try it again
 * until its window closed. Caught here, it is the unusable address it is: `failed`, no SES call.
 */
export function isSendableAddress(address: string): boolean {
  if (address.length > 320 || !ADDRESS.test(address)) return false;
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > 64 || local.startsWith('.') || local.endsWith('.') || local.includes('..')) return false;
  return domain.length <= 253 && domain.split('.').every((label) => label.length <= 63);
}

const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

function unsubscribeHttpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidEmailError('listUnsubscribeUrl is not a URL');
  }
  if (!isOneClickUrl(url)) {
    throw new InvalidEmailError(`listUnsubscribeUrl must be https (RFC 8058), got ${url.protocol}`);
  }
  return url.href;
}

function unsubscribeMailto(value: string): string {
  const href = value.startsWith('mailto:') ? value : `mailto:${value}`;
  const address = href.slice('mailto:'.length).split('?')[0] ?? '';
  if (!isSendableAddress(address) || !PRINTABLE_ASCII.test(href) || /[<>,]/.test(href)) {
    throw new InvalidEmailError('listUnsubscribeMailto is not a usable mailto address');
  }
  return href;
}

/** The RFC 2369 / RFC 8058 headers: List-Unsubscribe (https first, then mailto) and List-Unsubscribe-Post. */
export function listUnsubscribeHeaders(url: string, mailto?: string): MessageHeader[] {
  const targets = [`<${unsubscribeHttpUrl(url)}>`, ...(mailto ? [`<${unsubscribeMailto(mailto)}>`] : [])];
  const value = targets.join(', ');
  // SES: printable ASCII, name + value at most 996 characters.
  if ('List-Unsubscribe'.length + value.length > 996) throw new InvalidEmailError('List-Unsubscribe header is too long');
  return [
    { Name: 'List-Unsubscribe', Value: value },
    { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
  ];
}

/** RFC 2047 B-encoded words of at most 75 characters (45 bytes each), split between characters. */
function encodedWords(text: string): string {
  const words: string[] = [];
  let chunk = '';
  for (const char of text) {
    if (Buffer.byteLength(chunk + char, 'utf8') > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += char;
  }
  if (chunk) words.push(chunk);
  return words.map((word) => `=?UTF-8?B?${Buffer.from(word, 'utf8').toString('base64')}?=`).join(' ');
}

const NAME_SPECIALS = /[()<>[\]:;@\\,."]/;

/**
 * Whether a header text must be encoded by us to be shown as written: non-ASCII, or ASCII holding
 * "=?", which a mail client would decode as an RFC 2047 encoded word of someone else's making
 * (an advisor or client name "=?UTF-8?B?...?=" would show a bidi override the names never keep).
 * Encoded by us, the client decodes it back to the literal text. Quoting is not enough: many
 * clients decode encoded words inside quotes too.
 */
function needsEncodedWords(text: string): boolean {
  return !/^[\x20-\x7e]*$/.test(text) || text.includes('=?');
}

/**
 * The From address, plain ('hello@brand.com') or with a display name ('Maison <hello@brand.com>').
 * SES wants a non-ASCII display name as an RFC 2047 encoded word, and specials quoted; a name
 * holding "=?" is encoded too (needsEncodedWords), so it shows as written.
 */
export function formatFromAddress(from: string): string {
  const trimmed = from.trim();
  const match = /^(.*?)\s*<([^<>]+)>$/.exec(trimmed);
  const address = match ? (match[2] ?? '').trim() : trimmed;
  if (!isSendableAddress(address)) throw new InvalidEmailError('from is not a sendable address');
  const name = (match?.[1] ?? '').trim().replace(/^"(.*)"$/, '$1').replace(/[\r\n]+/g, ' ');
  if (name.length === 0) return address;
  if (needsEncodedWords(name)) return `${encodedWords(name)} <${address}>`;
  if (NAME_SPECIALS.test(name)) return `"${name.replace(/(["\\])/g, '\\$1')}" <${address}>`;
  return `${name} <${address}>`;
}

/** The SendEmail request for one email. Throws InvalidEmailError for content no recipient could get. */
export function sendEmailCommand(email: OutgoingEmail): SendEmailCommand {
  const from = formatFromAddress(email.from);
  // A subject is one line: a stray newline from a template would otherwise break the header.
  const subject = email.subject.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  if (subject.length === 0) throw new InvalidEmailError('subject is empty');
  if (email.html.length === 0 && email.text.length === 0) throw new InvalidEmailError('both bodies are empty');
  const tags = emailTags(email.tags);
  const replyTo = email.replyTo?.trim();
  if (replyTo !== undefined && !isSendableAddress(replyTo)) throw new InvalidEmailError('replyTo is not a sendable address');
  return new SendEmailCommand({
    FromEmailAddress: from,
    Destination: { ToAddresses: [email.to.trim()] },
    ...(replyTo === undefined ? {} : { ReplyToAddresses: [replyTo] }),
    Content: {
      Simple: {
        // SES encodes a non-ASCII subject itself; one with "=?" (a name in it) we encode, as the From's name.
        Subject: { Data: subject.includes('=?') ? encodedWords(subject) : subject, Charset: 'UTF-8' },
        Body: {
          ...(email.html.length > 0 ? { Html: { Data: email.html, Charset: 'UTF-8' } } : {}),
          ...(email.text.length > 0 ? { Text: { Data: email.text, Charset: 'UTF-8' } } : {}),
        },
        ...(email.listUnsubscribeUrl ? { Headers: listUnsubscribeHeaders(email.listUnsubscribeUrl, email.listUnsubscribeMailto) } : {}),
      },
    },
    ...(tags.length > 0 ? { EmailTags: tags } : {}),
    ...(email.configurationSetName ? { ConfigurationSetName: email.configurationSetName } : {}),
  });
}
