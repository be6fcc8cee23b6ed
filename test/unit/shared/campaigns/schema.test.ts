import { describe, expect, it } from 'vitest';
import {
  brandDefaultCampaigns,
  campaignDefinitionSchema,
  campaignsConfigSchema,
  type Offer,
} from '#shared/campaigns/schema.ts';
import { PLAY_IDS, PLAYS } from '#shared/campaigns/plays.ts';
import { TEMPLATE_CATALOG } from '#shared/templates/catalog.ts';
import type { TemplateData } from '#shared/templates/render.ts';

describe('campaignsConfigSchema defaults', () => {
  it('gives the built-ins (the three timed campaigns, then every play) and the default policy from {}', () => {
    const config = campaignsConfigSchema.parse({});
    expect(config.policy).toEqual({
      frequencyCap: { per24h: 1, per7d: 3 },
      quietHours: { start: '21:00', end: '09:00' },
      controlShare: 0.1,
    });
    expect(config.campaigns.map((c) => [c.id, c.kind, c.priority, c.enabled, c.template])).toEqual([
      ['welcome', 'welcome', 1, true, 'welcome'],
      ['replenishment', 'replenishment', 2, true, 'replenishment'],
      ['winback', 'winback', 3, true, 'winback'],
      ...PLAY_IDS.map((id) => [id, 'custom', expect.any(Number), true, expect.anything()]),
    ]);
    const [welcome, replenishment, winback] = config.campaigns;
    expect(welcome?.kind === 'welcome' && welcome.timing).toEqual({ targetHours: 24, cutoffHours: 72 });
    expect(replenishment?.kind === 'replenishment' && replenishment.timing).toEqual({ daysBeforeRunOut: 15 });
    expect(winback?.kind === 'winback' && winback.timing).toEqual({ afterDays: 60, windowDays: 30 });
    for (const campaign of config.campaigns.slice(0, 3)) {
      expect(campaign.audience.tiers).toEqual(['VIC', 'Core', 'Potential', 'Entry', 'Prospect']);
      expect(campaign.audience.stages).toEqual(['prospect', 'new', 'active', 'at-risk', 'sleeping', 'churned']);
      expect(campaign.controlShare).toBeUndefined();
    }
  });

  it('treats VIC clients with a personal note, never a discount', () => {
    for (const campaign of brandDefaultCampaigns()) {
      if (campaign.audience.tiers.includes('VIC')) expect(campaign.offers.VIC).toEqual({ kind: 'personal-note' });
    }
    const [welcome, replenishment, winback] = brandDefaultCampaigns();
    expect(welcome?.offers.default).toEqual({ kind: 'sample' });
    expect(replenishment?.offers.default).toEqual({ kind: 'coupon', discountPercent: 10, sample: true });
    expect(winback?.offers.default).toEqual({ kind: 'free-shipping-coupon', freeShipping: true, discountPercent: 15 });
  });

  it('returns fresh objects: changing one parse does not change the next', () => {
    const first = campaignsConfigSchema.parse({});
    first.campaigns[0]!.audience.tiers.pop();
    first.campaigns[0]!.offers.default.kind = 'none';
    const second = campaignsConfigSchema.parse({});
    expect(second.campaigns[0]!.audience.tiers).toHaveLength(5);
    expect(second.campaigns[0]!.offers.default.kind).toBe('sample');
  });

  it('fills the defaults of a partly written campaign from its kind', () => {
    const campaign = campaignDefinitionSchema.parse({ kind: 'winback', id: 'winback-45', timing: { afterDays: 45 }, audience: { tiers: ['VIC'] } });
    expect(campaign).toMatchObject({
      id: 'winback-45',
      priority: 3,
      template: 'winback',
      timing: { afterDays: 45, windowDays: 30 },
      audience: { tiers: ['VIC'], stages: ['prospect', 'new', 'active', 'at-risk', 'sleeping', 'churned'] },
    });
  });

  it('lets a listed campaign list replace the built-ins', () => {
    const config = campaignsConfigSchema.parse({ campaigns: [{ kind: 'welcome', enabled: false }] });
    expect(config.campaigns).toHaveLength(1);
    expect(config.campaigns[0]).toMatchObject({ id: 'welcome', enabled: false });
  });
});

describe('built-in plays', () => {
  it('are custom campaigns of the vocabulary, named by their play, each with a template in both locales', () => {
    for (const id of PLAY_IDS) {
      const campaign = campaignDefinitionSchema.parse({ kind: id });
      expect(campaign).toMatchObject({ kind: 'custom', id, play: id, enabled: true });
      const templates = campaign.kind === 'custom' ? (typeof campaign.template === 'string' ? [campaign.template] : Object.values(campaign.template)) : [];
      for (const template of templates) expect(Object.keys(TEMPLATE_CATALOG.campaigns[template ?? ''] ?? {}).sort()).toEqual(['en', 'zh-CN']);
      expect(PLAYS[id].description.length).toBeGreaterThan(20);
    }
  });

  it('take the fields written beside the kind in place of the preset\'s (whole fields)', () => {
    const campaign = campaignDefinitionSchema.parse({ kind: 'tier-upgrade-thanks', id: 'thanks-core', priority: 4, timing: { cutoffDays: 3 }, audience: { tiers: ['Core'] } });
    expect(campaign).toMatchObject({
      kind: 'custom',
      id: 'thanks-core',
      play: 'tier-upgrade-thanks',
      priority: 4,
      timing: { delayHours: 0, cutoffDays: 3, oncePer: 'occasion' },
      audience: { tiers: ['Core'] },
      trigger: { on: 'tier-changed', direction: 'up', daysAfter: 1 },
      template: 'tier-upgrade-thanks',
    });
  });

  it('name the campaign and the field of a bad override, and refuse unknown fields', () => {
    const bad = campaignsConfigSchema.safeParse({ campaigns: [{ kind: 'tier-upgrade-thanks', trigger: { on: 'tier-changed', daysAfter: -1 } }] });
    expect(bad.error?.issues.map((i) => i.path)).toContainEqual(['campaigns', 0, 'trigger', 'daysAfter']);
    const typo = campaignsConfigSchema.safeParse({ campaigns: [{ kind: 'tier-upgrade-thanks', priorty: 4 }] });
    expect(typo.success).toBe(false);
  });

  it('turn off by id without listing the others; an unknown id is an error', () => {
    const config = campaignsConfigSchema.parse({ turnedOff: ['tier-upgrade-thanks', 'winback'] });
    expect(config.campaigns.filter((c) => !c.enabled).map((c) => c.id)).toEqual(['winback', 'tier-upgrade-thanks']);
    expect(config.campaigns).toHaveLength(3 + PLAY_IDS.length);
    expect('turnedOff' in config).toBe(false);
    const typo = campaignsConfigSchema.safeParse({ turnedOff: ['tier-upgrade'] });
    expect(typo.error?.issues.map((i) => [i.path, i.message])).toEqual([[['turnedOff', 0], expect.stringContaining('no campaign "tier-upgrade"')]]);
  });
});

describe('campaignsConfigSchema validation', () => {
  const invalid: [string, unknown][] = [
    ['duplicate ids', { campaigns: [{ kind: 'welcome' }, { kind: 'welcome' }] }],
    ['an id with a ledger separator', { campaigns: [{ kind: 'welcome', id: 'wel#come' }] }],
    ['an unknown kind', { campaigns: [{ kind: 'anniversary' }] }],
    ['a timing field of another kind', { campaigns: [{ kind: 'welcome', timing: { afterDays: 3 } }] }],
    ['a cut-off before the target', { campaigns: [{ kind: 'welcome', timing: { targetHours: 24, cutoffHours: 12 } }] }],
    ['zero days before run-out', { campaigns: [{ kind: 'replenishment', timing: { daysBeforeRunOut: 0 } }] }],
    ['fractional win-back days', { campaigns: [{ kind: 'winback', timing: { afterDays: 59.5 } }] }],
    ['an empty audience', { campaigns: [{ kind: 'winback', audience: { tiers: [] } }] }],
    ['an unknown tier', { campaigns: [{ kind: 'winback', audience: { tiers: ['Gold'] } }] }],
    ['offers without default', { campaigns: [{ kind: 'winback', offers: { VIC: { kind: 'personal-note' } } }] }],
    ['a personal note with a discount', { campaigns: [{ kind: 'winback', offers: { default: { kind: 'personal-note', discountPercent: 10 } } }] }],
    ['a coupon code the templates refuse', { campaigns: [{ kind: 'winback', offers: { default: { kind: 'coupon', couponCode: 'TEN OFF' } } }] }],
    ['a discount over 100%', { campaigns: [{ kind: 'winback', offers: { default: { kind: 'coupon', discountPercent: 120 } } }] }],
    ['a control share above 1', { campaigns: [{ kind: 'winback', controlShare: 1.5 }] }],
    ['a policy control share below 0', { policy: { controlShare: -0.1 } }],
    ['a control share of 1 (every client held out)', { campaigns: [{ kind: 'winback', controlShare: 1 }] }],
    ['a policy control share of 1', { policy: { controlShare: 1 } }],
    ['a bad quiet-hours time', { policy: { quietHours: { start: '21h' } } }],
    ['24:00 as a time', { policy: { quietHours: { end: '24:00' } } }],
    ['a weekly cap below the daily cap', { policy: { frequencyCap: { per24h: 2, per7d: 1 } } }],
    ['a daily cap of 0 (disable campaigns instead)', { policy: { frequencyCap: { per24h: 0 } } }],
    ['an unknown policy key (typo)', { policy: { quietHour: { start: '22:00' } } }],
    ['an unknown top-level key', { campaign: [] }],
  ];
  it.each(invalid)('refuses %s', (_name, input) => {
    expect(campaignsConfigSchema.safeParse(input).success).toBe(false);
  });

  it('names the field of a duplicate id', () => {
    const result = campaignsConfigSchema.safeParse({ campaigns: [{ kind: 'welcome' }, { kind: 'winback', id: 'welcome' }] });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path)).toContainEqual(['campaigns', 1, 'id']);
  });

  it('refuses a control share of 1, saying to disable the campaign instead: no email would go and the results would have no sent group', () => {
    for (const [input, path] of [
      [{ campaigns: [{ kind: 'winback', controlShare: 1 }] }, ['campaigns', 0, 'controlShare']],
      [{ campaigns: [{ kind: 'custom', id: 'nudge', trigger: { on: 'first-order' }, template: 'welcome', controlShare: 1 }] }, ['campaigns', 0, 'controlShare']],
      [{ policy: { controlShare: 1 } }, ['policy', 'controlShare']],
    ] as const) {
      const issues = campaignsConfigSchema.safeParse(input).error?.issues ?? [];
      expect(issues.map((i) => [i.path, i.message])).toEqual([[path, expect.stringMatching(/^must be below 1: .*set its `enabled: false`$/)]]);
    }
    expect(campaignsConfigSchema.parse({ policy: { controlShare: 0.99 } }).policy.controlShare).toBe(0.99);
  });

  it('accepts custom quiet hours, caps and shares', () => {
    const config = campaignsConfigSchema.parse({
      policy: { frequencyCap: { per24h: 2, per7d: 5 }, quietHours: { start: '22:30', end: '08:15' }, controlShare: 0 },
      campaigns: [{ kind: 'welcome', controlShare: 0.2, offers: { default: { kind: 'coupon', couponCode: 'HELLO-10', discountPercent: 10 } } }],
    });
    expect(config.policy.quietHours).toEqual({ start: '22:30', end: '08:15' });
    expect(config.campaigns[0]?.controlShare).toBe(0.2);
  });
});

describe('offers and the templates', () => {
  it('fit the data the templates render (type-level check)', () => {
    const offer: Offer = brandDefaultCampaigns()[1]!.offers.default;
    const forTemplate: TemplateData['offer'] = offer;
    expect(forTemplate.sample).toBe(true);
  });
});
