import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { couponSchemeSchema } from './campaigns/coupon-codes.ts';
import { campaignsConfigSchema } from './campaigns/schema.ts';
import { ClienteleError } from './errors.ts';
import { currencyExponent, parsePrice } from './money.ts';
import { DEFAULT_RFM_SEGMENTS, rfmSegmentsSchema } from './segments/rfm-segments.ts';
import { TIERS } from './model.ts';
import { isValidTimeZone, WEEKDAYS } from './time.ts';

/**
 * The campaigns function's timeout (infra/constructs/campaign-sender.ts). A run writes its claims
 * until it stops, at most this long after it started, so a claim younger than this may still be
 * in flight: `sender.staleClaimMinutes` must exceed it, or the README's release step would have
 * an operator send such an email a second time.
 */
export const CAMPAIGN_RUN_TIMEOUT_MINUTES = 15;

/**
 * The one configuration schema: read by the CLI (`--config FILE`), by the Lambda handlers
 * (from their environment) and by the CDK app (from context). Defaults come from the
 * business handbook (domain.md).
 */

const decimalAmount = z
  .string()
  .regex(/^\d+(\.\d+)?$/, 'must be a non-negative decimal amount written as a string, e.g. "5000" or "4999.99"');

/** A decimal amount that must not be zero: a rate or a bound of 0 would count every amount as 0, or reject every line. */
const positiveDecimalAmount = decimalAmount.refine((amount) => /[1-9]/.test(amount), 'must be greater than 0');

const timeZone = z.string().refine(isValidTimeZone, { message: 'must be an IANA time zone, e.g. Asia/Shanghai' });

const currencyCode = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD or CNY');

/** domain.md's tier table, in USD: the thresholds of a config that leaves `tiers` out (only a USD one may). */
export const DEFAULT_USD_TIER_THRESHOLDS = { vic: '50000', core: '5000', potential: '1000' } as const;

/**
 * The thresholds as a config gives them: one left out is its USD default (withDefaultTiers), which
 * only a USD config may do; their order is checked in the currency's minor units (checkTierThresholds).
 */
export const tierThresholdsSchema = z.strictObject({
  vic: decimalAmount.optional(),
  core: decimalAmount.optional(),
  potential: decimalAmount.optional(),
});

export type TierThresholds = Record<keyof typeof DEFAULT_USD_TIER_THRESHOLDS, string>;

/** The thresholds with each one left out filled with its USD default. */
function filledTiers(given: z.infer<typeof tierThresholdsSchema> | undefined): TierThresholds {
  return {
    vic: given?.vic ?? DEFAULT_USD_TIER_THRESHOLDS.vic,
    core: given?.core ?? DEFAULT_USD_TIER_THRESHOLDS.core,
    potential: given?.potential ?? DEFAULT_USD_TIER_THRESHOLDS.potential,
  };
}

export const lifecycleSchema = z
  .strictObject({
    /** A client whose first order is at most this many days old is "new". */
    newDays: z.number().int().positive().default(30),
    /** Days without an order after which a client is "sleeping" (the win-back moment). */
    sleepingDays: z.number().int().positive().default(60),
    /** Days without an order after which a client is "churned". */
    churnedDays: z.number().int().positive().default(180),
    /** Usual reorder gap assumed for clients with a single order day (no gap of their own yet). */
    defaultReorderGapDays: z.number().int().positive().default(45),
  })
  .refine((l) => l.churnedDays > l.sleepingDays, { message: 'churnedDays must be greater than sleepingDays' });

export const clvSchema = z
  .strictObject({
    /** Fit the BG/NBD and Gamma-Gamma models each night and store predictions on the profiles. */
    enabled: z.boolean().default(true),
    /** Time unit of the model summaries. */
    unit: z.enum(['days', 'weeks']).default('weeks'),
    /**
     * Count kept orders with a net amount of 0 (a free sample, a gift) as purchases of the BG/NBD
     * model (lifetimes and the published models count every transaction). Cancelled and fully
     * refunded orders never count. false: only orders with a positive net amount are purchases
     * (the suite's older rule).
     */
    countZeroValueOrders: z.boolean().default(true),
    /** Annual discount rate of the 12-month CLV, e.g. 0.1 for 10 %. */
    annualDiscountRate: z.number().min(0).max(1).default(0.1),
    /** A client who would be "active" but whose probability alive is below this is "at-risk". */
    churnRiskBelowProbabilityAlive: z.number().min(0).max(1).default(0.3),
    /** Fewer clients with a repeat purchase than this: no fit, no predictions (reported). */
    minRepeatBuyersToFit: z.number().int().min(1).default(50),
  })
  .prefault({});

const weekday = z.enum(WEEKDAYS);

export const advisorSchema = z.strictObject({
  /** Where the advisor's weekly client-book digest goes. */
  email: z.string().email(),
  name: z.string().min(1).optional(),
  /** BCP 47 locale of the digest (zh-CN or en). */
  locale: z.string().min(2).default('en'),
});

/**
 * Days of decisions, before the longest conversion window, that the campaign results keep: their
 * period starts (longest window + this) days before the run date, so its oldest 30 days of
 * decisions have every window matured and the more recent ones count in the windows that have
 * (shared/campaign-results/results.ts). Here, like FOLLOW_UP_PERIOD_DAYS, because the send
 * ledger's retention must cover both (checkLedgerRetention), and config.ts may not import the
 * folders that import it (test/unit/architecture.test.ts refuses folder cycles).
 */
export const FULLY_MATURED_DAYS = 30;

/**
 * Days back from the run's clock whose advisor tasks and control decisions the follow-through
 * follows (shared/advisors/follow-through.ts); those whose 30 days have not ended are "maturing".
 */
export const FOLLOW_UP_PERIOD_DAYS = 90;

export const reportsSchema = z
  .strictObject({
    /** Who receives the nightly summary email (the CRM team); none: the report is only written to S3. */
    teamAddresses: z.array(z.string().email()).default([]),
    /**
     * How long the report links in the team email and the CLI stay valid (presigned S3 URLs;
     * SigV4 allows at most 7 days). A link signed with temporary credentials (a Lambda's role)
     * also ends when they do, whichever comes first.
     */
    linkExpiryHours: z.number().int().min(1).max(168).default(24),
    /** Conversion windows of the campaign results, in days after the send (or the held-out decision). */
    conversionWindowsDays: z.array(z.number().int().positive().max(365)).min(1).default([7, 30]),
    /** Repurchase rate (share of 12-month buyers with 2+ orders) below which the report warns. */
    repurchaseWarningBelow: z.number().min(0).max(1).default(0.3),
    /**
     * Share of rejected rows above which the report and the team email warn. A few rejects in a
     * large export are routine (they are listed either way); the night itself refuses an export
     * past maxRejectShare.
     */
    rejectedRowsWarningAbove: z.number().min(0).max(1).default(0.01),
    /** Confidence level of the uplift intervals. */
    confidenceLevel: z.number().gt(0.5).lt(1).default(0.95),
    /** Sales advisors by the advisor_id the customers export uses. */
    advisors: z.record(z.string().min(1), advisorSchema).default({}),
    /**
     * The weekday of the run date whose nightly run sends the advisors' digests. The night of a
     * date runs in the early hours of the next day, so the default 'sunday' lands on Monday morning.
     */
    advisorDigestWeekday: weekday.default('sunday'),
    /** Rows per advisor digest, ranked by predicted value (an advisor's book is 30-50 clients). */
    advisorDigestMaxRows: z.number().int().min(1).max(200).default(40),
  })
  .prefault({});

/** How advisors' books are sized and how long a task waits for its advisor (issue 16; domain.md: a book of 30-50 clients). */
export const advisorsSchema = z
  .strictObject({
    /** The size `clientele advisors plan` balances books to: first up to min, never past max. */
    bookSize: z
      .strictObject({ min: z.number().int().min(1).default(30), max: z.number().int().min(1).default(50) })
      .refine((size) => size.min <= size.max, { message: 'bookSize.min must not exceed bookSize.max' })
      .prefault({}),
    /**
     * One touch, not two: a personal note for a client with an active advisor first goes to the
     * advisor as a task; the email goes out in their name only when they ask for it, or when they
     * have not answered this many days after the task reached them.
     */
    taskWaitDays: z.number().int().min(0).max(30).default(3),
    /** How long a task's one-click links (done, snooze a week, send the email for me) stay valid. */
    taskLinkDays: z.number().int().min(1).max(60).default(14),
    /** Public URL of the advisor-task function; the signed token is appended as ?t=... */
    taskBaseUrl: z.string().url().default('https://advisor-tasks.example.com/'),
  })
  .prefault({});

/** The text encodings an export may be declared in (decoded with TextDecoder); UTF-8 unless the config says otherwise. */
export const EXPORT_ENCODINGS = ['utf-8', 'gbk', 'gb18030', 'big5', 'shift_jis', 'euc-kr', 'latin1', 'windows-1252'] as const;

export const exportsSchema = z
  .strictObject({
    /** The text encoding of the export files: Chinese platforms still export GBK / GB18030. */
    encoding: z.enum(EXPORT_ENCODINGS).default('utf-8'),
    /** A line total above this (in the brand currency, after conversion) is a reject, never a sum. */
    maxLineTotal: positiveDecimalAmount.default('10000000'),
    /**
     * The producer writes `_manifest.json` last, listing every file: an export without one (or whose
     * manifest lists no files) is still being written, or was cut short, and fails the night.
     */
    requireManifest: z.boolean().default(false),
  })
  .prefault({});

export const plausibilitySchema = z
  .strictObject({
    /** Clients, order lines or 12-month revenue may not fall by more than this share since the last completed night. */
    maxDropShare: z.number().min(0).max(1).default(0.2),
    /** Tier downgrades may not exceed this share of the last completed night's buyers. */
    maxDowngradeShare: z.number().min(0).max(1).default(0.05),
    /** Buyers moving up a tier (a first purchase is not a move) may not exceed this share of the last completed night's buyers. */
    maxUpgradeShare: z.number().min(0).max(1).default(0.05),
    /**
     * Buyers whose orders went back (an earlier last order, fewer counted orders) or who lapse
     * further than the days since that night explain may not exceed this share of its buyers.
     */
    maxUnexplainedLapseShare: z.number().min(0).max(1).default(0.02),
    /**
     * Clients of that night in no file of tonight's export (no customer row, no order line: deleted
     * on the platform, or a part missing) may not exceed this share of its clients.
     */
    maxNewlyAbsentShare: z.number().min(0).max(1).default(0.02),
    /**
     * Clients of that night whose profile holds no consent (a no, or never a yes) and to whom
     * tonight's customers rows say yes may not exceed this share of its clients. Clients of the base
     * opting in on a given day are a fraction of a percent; an export writing the platform's default
     * (or a column mapped from another field) says yes for every one who had said no, often a fifth
     * of a base or more. 2%, not 5%: a base where few had opted out must still be caught.
     */
    maxConsentGivenBackShare: z.number().min(0).max(1).default(0.02),
    /**
     * Clients of that night whose stored email tonight's customers rows replace with another may not
     * exceed this share of its clients. Clients changing their address on a given day are a
     * fraction of a percent; an email column off by one row, or one address for every row, replaces
     * nearly all of them (each one's emails would go to another's inbox).
     */
    maxAddressChangeShare: z.number().min(0).max(1).default(0.05),
  })
  .prefault({});

export const storageSchema = z.strictObject({
  exportsBucket: z.string().min(3).default('clientele-exports'),
  exportsPrefix: z
    .string()
    .default('exports')
    .transform((p) => p.replace(/^\/+|\/+$/g, '')),
  reportsBucket: z.string().min(3).optional(),
  reportsPrefix: z
    .string()
    .default('reports')
    .transform((p) => p.replace(/^\/+|\/+$/g, '')),
  tablePrefix: z.string().regex(/^[A-Za-z0-9_.-]*$/).default('clientele-'),
});

export const endpointsSchema = z
  .strictObject({
    region: z.string().default('us-east-1'),
    /** Set for local emulators; unset in AWS. */
    s3: z.string().url().optional(),
    dynamodb: z.string().url().optional(),
    ses: z.string().url().optional(),
  })
  .default({ region: 'us-east-1' });

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** A URL a one-click unsubscribe may use: RFC 8058 requires HTTPS; plain http only reaches a loopback emulator. */
export function isOneClickUrl(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}

export const senderSchema = z
  .strictObject({
    /** The verified SES identity the lifecycle emails come from. */
    fromAddress: z.string().email().default('hello@example.com'),
    /** SES configuration set (event publishing for bounces and complaints); unset locally. */
    configurationSetName: z.string().min(1).optional(),
    /** Emails per second: at most the account's SES sending rate. */
    maxSendRate: z.number().positive().max(10_000).default(14),
    /** Public URL of the unsubscribe function; the signed token is appended as ?t=... */
    // Checked here: an http link would load, then fail every email at send time.
    unsubscribeBaseUrl: z
      .url({ error: 'must be a URL' })
      .refine((value) => isOneClickUrl(new URL(value)), 'must be an https URL (RFC 8058 one-click unsubscribe), or http on a loopback address for the local emulators')
      .default('https://unsubscribe.example.com/'),
    /** Optional mailto for List-Unsubscribe, besides the one-click HTTPS link. */
    unsubscribeMailto: z.string().email().optional(),
    /**
     * Days a send-ledger entry is kept, from the later of its write and its window's close, before
     * DynamoDB's TTL removes it; an entry whose key outlives its window is kept until erasure.
     * Below ~400 days, a birthday or cycle corrected under the same key may be sent again (README).
     * At least 91 with the default conversion windows, more with a window past 59 days: the night
     * reads the ledger and the advisors' tasks back that far (checkLedgerRetention, across fields).
     */
    ledgerRetentionDays: z.number().int().min(30).default(400),
    /**
     * A claim left unresolved this long after it was written (a crash between claim and send) is
     * reported as stale. Longer than the campaigns function's timeout: a younger claim may belong
     * to a run still sending it.
     */
    staleClaimMinutes: z
      .number()
      .int()
      .min(CAMPAIGN_RUN_TIMEOUT_MINUTES + 1, {
        message: `must be more than the campaigns function's ${CAMPAIGN_RUN_TIMEOUT_MINUTES}-minute timeout: a younger claim may belong to a run still sending it`,
      })
      .default(30),
    /**
     * Emails in a row that fail on the way to SES (unreachable, or maybe sent: a timeout, a reset,
     * a 5xx) after which the run stops sending, leaves the remaining clients for a later hour and
     * fails (the function's error alarm).
     */
    circuitBreakerFailures: z.number().int().min(1).max(1000).default(5),
    /**
     * How far back each run looks, at least, for send windows that closed (a welcome's cut-off, the
     * end of a win-back or replenishment window) to record the occasions left waiting or never
     * decided as 'expired'. After a longer outage the first run looks back to the last run, no
     * further than `ledgerRetentionDays` (shared/sender/expiry.ts expirySince).
     */
    expiryLookbackHours: z.number().int().min(1).max(24 * 31).default(72),
    /** The shop's link for the email buttons (each link gets the campaign's UTM parameters). */
    shopUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    /** utm_source of every shop link in a campaign email (utm_medium is "email", utm_campaign the campaign id). */
    utmSource: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, ".", "_" or "-"')
      .default('clientele'),
    /**
     * The brand's postal address, one line per entry, printed in the footer of every marketing
     * email (CAN-SPAM asks for a valid physical postal address).
     */
    postalAddress: z.array(z.string().trim().min(1).max(120)).min(1).max(6).optional(),
    /**
     * Domains `clientele send-test` may send to without --allow-external (the brand's own people).
     * Empty: the domain of fromAddress.
     */
    internalDomains: z.array(z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, 'must be a domain such as example.com').toLowerCase()).default([]),
  })
  .prefault({});

/** Coupon codes drawn from a pool the brand uploads per campaign (an offer's `couponFrom: { from: 'pool' }`). */
export const couponsSchema = z
  .strictObject({
    /**
     * Folder of the pools in the exports bucket: `<prefix>/<campaignId>.csv`, one `code` column.
     * Codes are claimed in DynamoDB (the coupon-codes table), each once.
     */
    poolsPrefix: z
      .string()
      .default('coupon-pools')
      .transform((p) => p.replace(/^\/+|\/+$/g, '')),
    /** A pool with fewer unclaimed codes than this after a run raises the CouponPoolsLow alarm. */
    lowBelow: z.number().int().min(0).default(100),
    /**
     * The brand's own code scheme, for the offers whose `couponFrom` is `{ "from": "brand-scheme" }`
     * (the birthday play's voucher): each occasion a code as a `scheme` offer would generate. Without
     * it those offers carry no code (the discount alone). The shop must accept these codes.
     */
    scheme: couponSchemeSchema.optional(),
  })
  .prefault({});

/** The configuration's fields, before the checks across them (infra/settings.ts derives the stack's brand config from it). */
export const configFieldsSchema = z
  .object({
    // The emails' bounds: a longer or blank name would load, then fail every email at send time.
    brandName: z.string().trim().min(1, 'must not be blank').max(100).default('Clientele Demo Brand'),
    /** The brand's time zone: runs are dated in it, and timestamps without an offset are read in it. */
    timeZone: timeZone.default('Asia/Shanghai'),
    /** Currency the thresholds and reports are expressed in. */
    currency: currencyCode.default('USD'),
    /**
     * Units of `currency` for one unit of each other currency an export may contain, as decimal
     * strings; never 0, which would read every order in that currency as worth nothing, without a reject.
     */
    exchangeRates: z.record(currencyCode, positiveDecimalAmount).default({}),
    /**
     * Left out: DEFAULT_USD_TIER_THRESHOLDS (configSchema fills them in), which only a USD config may
     * do: read in another currency they would mis-tier every client (checkTierThresholds).
     */
    tiers: tierThresholdsSchema.optional(),
    lifecycle: lifecycleSchema.default({ newDays: 30, sleepingDays: 60, churnedDays: 180, defaultReorderGapDays: 45 }),
    /**
     * How each product category (the key the exports use, e.g. "leather-goods") is named in the
     * emails, per template locale: { "leather-goods": { "en": "Leather goods", "zh-CN": "皮具" } }.
     * Without a name an English email shows the key in words ("Leather goods") and a Chinese one
     * leaves the category out: an email never shows a raw key.
     */
    categoryNames: z.record(z.string().min(1), z.strictObject({ en: z.string().min(1).optional(), 'zh-CN': z.string().min(1).optional() })).default({}),
    /**
     * Care and use tips per product category, per template locale, for the emails that show them
     * (the first-order-care play): { "skincare": { "en": "Apply morning and evening...", "zh-CN": "..." } }.
     * A category without a tip for the locale gets none: the email then reads well without.
     */
    categoryCare: z.record(z.string().min(1), z.strictObject({ en: z.string().trim().min(1).max(600).optional(), 'zh-CN': z.string().trim().min(1).max(600).optional() })).default({}),
    /**
     * How the emails name each tier, per template locale: { "Core": { "en": "Gold", "zh-CN": "金卡会员" } }.
     * Defaults: the tier keys in English, 核心会员 / 潜力会员 … in Chinese (shared/templates/tier-names.ts).
     */
    tierNames: z.partialRecord(z.enum(TIERS), z.strictObject({ en: z.string().trim().min(1).max(40).optional(), 'zh-CN': z.string().trim().min(1).max(40).optional() })).default({}),
    /** Named RFM segments (first matching rule wins; every score combination needs one), stored on each buyer's profile. */
    rfmSegments: rfmSegmentsSchema.default(() => DEFAULT_RFM_SEGMENTS.map((rule) => ({ ...rule }))),
    /** Share of a file's rows rejected above which a run fails before writing anything (each file on its own). */
    maxRejectShare: z.number().min(0).max(1).default(0.05),
    /** How the export files are read: text encoding, the largest believable line total. */
    exports: exportsSchema,
    /** The plausibility checks against the last completed night (overridden only by an explicit accept-drop). */
    plausibility: plausibilitySchema,
    storage: storageSchema.default({
      exportsBucket: 'clientele-exports',
      exportsPrefix: 'exports',
      reportsPrefix: 'reports',
      tablePrefix: 'clientele-',
    }),
    endpoints: endpointsSchema,
    /** The lifecycle campaigns (welcome, replenishment, win-back) and the sending policy. */
    campaigns: campaignsConfigSchema.prefault({}),
    sender: senderSchema,
    /** Coupon pools: where they are uploaded, when one counts as running low. */
    coupons: couponsSchema,
    /** Predicted lifetime value (BG/NBD + Gamma-Gamma), stored on the profiles each night. */
    clv: clvSchema,
    /** The nightly report, campaign results and the advisors' weekly digests. */
    reports: reportsSchema,
    /** Advisors' books and tasks: the planner's book size, the wait before a task's email goes out. */
    advisors: advisorsSchema,
  })
  .strict();

/** Checks across fields: an audience may only name segments the map defines (a typo would quietly match nobody). */
export function checkAcrossFields(
  config: Pick<z.infer<typeof configFieldsSchema>, 'rfmSegments' | 'campaigns' | 'tiers' | 'currency' | 'sender' | 'reports'>,
  ctx: z.RefinementCtx,
): void {
  checkTierThresholds(config, ctx);
  checkLedgerRetention(config, ctx);
  const segments = new Set(config.rfmSegments.map((rule) => rule.name));
  config.campaigns.campaigns.forEach((campaign, i) => {
    campaign.audience.rfmSegments?.forEach((name, j) => {
      if (!segments.has(name)) {
        ctx.addIssue({
          code: 'custom',
          message: `campaign "${campaign.id}": no RFM segment "${name}" (rfmSegments defines ${[...segments].join(', ')})`,
          path: ['campaigns', 'campaigns', i, 'audience', 'rfmSegments', j],
        });
      }
    });
    if (campaign.kind === 'custom' && campaign.trigger.on === 'rfm-segment-entered') {
      campaign.trigger.segments.forEach((name, j) => {
        if (!segments.has(name)) {
          ctx.addIssue({
            code: 'custom',
            message: `campaign "${campaign.id}": no RFM segment "${name}" (rfmSegments defines ${[...segments].join(', ')})`,
            path: ['campaigns', 'campaigns', i, 'trigger', 'segments', j],
          });
        }
      });
    }
  });
}

/**
 * The tier thresholds as the tiering reads them, in minor units of `currency` (tiers.ts): each
 * exact in that currency ("0.5" JPY or "49999.999" USD would be rounded, to 0 or onto the next
 * threshold), and vic > core > potential >= one minor unit, or a client who never bought would be
 * Potential and nobody Core. Left out, they are the USD defaults: refused for another currency.
 */
function checkTierThresholds(config: Pick<z.infer<typeof configFieldsSchema>, 'tiers' | 'currency'>, ctx: z.RefinementCtx): void {
  const missing = (['vic', 'core', 'potential'] as const).filter((name) => config.tiers?.[name] === undefined);
  if (missing.length > 0 && config.currency !== 'USD') {
    ctx.addIssue({
      code: 'custom',
      path: missing.length === 3 ? ['tiers'] : ['tiers', missing[0] as string],
      message: `must be set when currency is ${config.currency}: the default thresholds are USD amounts; set tiers.vic, tiers.core and tiers.potential in ${config.currency}`,
    });
    return;
  }
  const tiers = filledTiers(config.tiers);
  const minor = { vic: 0, core: 0, potential: 0 };
  for (const name of ['vic', 'core', 'potential'] as const) {
    const value = parsePrice(tiers[name], config.currency);
    if (value === undefined) {
      ctx.addIssue({ code: 'custom', path: ['tiers', name], message: `"${tiers[name]}" is not an exact amount of ${config.currency} (at most ${currencyExponent(config.currency)} decimals)` });
      return;
    }
    minor[name] = value;
  }
  if (!(minor.vic > minor.core && minor.core > minor.potential && minor.potential >= 1)) {
    ctx.addIssue({ code: 'custom', path: ['tiers'], message: `tier thresholds must satisfy vic > core > potential > 0 in ${config.currency}` });
  }
}

/**
 * The send ledger (and the advisors' tasks, which expire with it) must keep what the night reads
 * back, counted from the run's clock (the end of its run date): the campaign results' decisions
 * from (longest conversion window + FULLY_MATURED_DAYS) days before the run date through the run
 * date (campaignResultsPeriod), and the follow-through's tasks and held-out decisions of the last
 * FOLLOW_UP_PERIOD_DAYS (followUpPeriodStart); plus a day, as the night reads after its clock
 * (02:00 the next morning, or a rerun that day). With less, DynamoDB's TTL deletes entries those
 * figures count, and the report shows them as if complete.
 */
function checkLedgerRetention(config: Pick<z.infer<typeof configFieldsSchema>, 'sender' | 'reports'>, ctx: z.RefinementCtx): void {
  const longestWindow = Math.max(...config.reports.conversionWindowsDays);
  const resultsDays = longestWindow + FULLY_MATURED_DAYS + 1;
  const needed = Math.max(resultsDays, FOLLOW_UP_PERIOD_DAYS) + 1;
  if (config.sender.ledgerRetentionDays < needed) {
    ctx.addIssue({
      code: 'custom',
      path: ['sender', 'ledgerRetentionDays'],
      message:
        `must be at least ${needed}: each night reads the send ledger and the advisors' tasks back ${resultsDays} days for the campaign results ` +
        `(the longest conversion window, ${longestWindow}, + ${FULLY_MATURED_DAYS} fully matured days + the run date) and ${FOLLOW_UP_PERIOD_DAYS} days ` +
        `for the advisors' follow-through, plus a day as it runs after its run date; DynamoDB's TTL would delete entries those figures count`,
    });
  }
}

/** The configuration with its tiers filled: the USD defaults of those it left out (checkTierThresholds allowed it). */
export function withDefaultTiers<T extends { tiers?: z.infer<typeof tierThresholdsSchema> | undefined }>(config: T): Omit<T, 'tiers'> & { tiers: TierThresholds } {
  return { ...config, tiers: filledTiers(config.tiers) };
}

export const configSchema = configFieldsSchema.superRefine(checkAcrossFields).transform(withDefaultTiers);

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

export class ConfigError extends ClienteleError {
  override name = 'ConfigError';
  constructor(message: string, options?: ErrorOptions) {
    super('CONFIG_INVALID', message, options);
  }
}

/** Validates configuration data, turning zod's issues into one readable message. */
export function parseConfig(input: unknown, source = 'configuration'): Config {
  const result = configSchema.safeParse(input ?? {});
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
      return `  - ${campaignNamed(input, issue.path)}${path}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid ${source}:\n${lines.join('\n')}`);
  }
  return result.data;
}

/** 'campaign "<id>" at ' for an issue inside a campaign that has an id (the path gives its index), else ''. */
function campaignNamed(input: unknown, path: readonly PropertyKey[]): string {
  if (path[0] !== 'campaigns' || path[1] !== 'campaigns' || typeof path[2] !== 'number') return '';
  const campaigns = (input as { campaigns?: { campaigns?: unknown } } | null)?.campaigns?.campaigns;
  const campaign: unknown = Array.isArray(campaigns) ? campaigns[path[2]] : undefined;
  const id = typeof campaign === 'object' && campaign !== null ? (campaign as { id?: unknown; kind?: unknown }).id ?? (campaign as { kind?: unknown }).kind : undefined;
  return typeof id === 'string' ? `campaign "${id}" at ` : '';
}

/** Reads a JSON config file (or the defaults when no file is given). */
export async function loadConfig(file?: string, overrides: Partial<ConfigInput> = {}): Promise<Config> {
  let fromFile: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`Cannot read config file ${file}: ${(error as Error).message}`);
    }
    try {
      fromFile = JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`Config file ${file} is not valid JSON: ${(error as Error).message}`);
    }
  }
  return parseConfig({ ...fromFile, ...overrides }, file ? `config file ${file}` : 'configuration');
}
