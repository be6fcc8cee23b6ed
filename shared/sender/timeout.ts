/**
 * The campaigns function's timeout (infra/constructs/campaign-sender.ts). A run writes its claims
 * until it stops, at most this long after it started, so a claim younger than this may still be
 * in flight: `sender.staleClaimMinutes` must exceed it (config.ts refuses a shorter one), or the
 * README's release step would have an operator send such an email a second time.
 */
export const CAMPAIGN_RUN_TIMEOUT_MINUTES = 15;
