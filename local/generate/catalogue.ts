import { currencyExponent } from '#shared/money.ts';

/**
 * The sample brand's catalogue: luxury beauty plus a small fashion and jewellery line, so that
 * a handful of clients can plausibly spend 50,000+ a year. Prices are in USD and converted to
 * the export currency with rough rates (the point is plausible price points, not FX accuracy).
 */

export type Season = 'summer' | 'winter' | '';

export interface CatalogueEntry {
  sku: string;
  name: string;
  category: string;
  /** Use-up cycle of one unit in days; undefined = not replenishable. */
  replenishDays?: number;
  season: Season;
  priceUsd: number;
}

export interface Product extends CatalogueEntry {
  /** Position in the catalogue (used for per-client affinity arrays). */
  index: number;
  /** Unit price in minor units of the export currency. */
  priceMinor: number;
  /** Index into CATEGORIES. */
  categoryIndex: number;
}

export const CATEGORIES = [
  'skincare',
  'suncare',
  'bodycare',
  'makeup',
  'fragrance',
  'home',
  'gift-sets',
  'accessories',
  'leather-goods',
  'ready-to-wear',
  'shoes',
  'jewelry',
  'watches',
] as const;
export type Category = (typeof CATEGORIES)[number];

// Names include a comma, quotes and non-ASCII letters on purpose: readers must handle
// RFC 4180 quoting and UTF-8.
export const CATALOGUE: readonly CatalogueEntry[] = [
  { sku: 'SK-CLN-01', name: 'Gentle Foam Cleanser 150ml', category: 'skincare', replenishDays: 45, season: '', priceUsd: 48 },
  { sku: 'SK-CLN-02', name: 'Camellia Cleansing Oil 200ml', category: 'skincare', replenishDays: 60, season: '', priceUsd: 62 },
  { sku: 'SK-TON-01', name: 'Hydrating Essence Lotion 150ml', category: 'skincare', replenishDays: 60, season: '', priceUsd: 95 },
  { sku: 'SK-SER-01', name: 'Cellular Renewal Serum 30ml', category: 'skincare', replenishDays: 60, season: '', priceUsd: 285 },
  { sku: 'SK-SER-02', name: 'Vitamin C Brightening Serum 30ml', category: 'skincare', replenishDays: 60, season: '', priceUsd: 165 },
  { sku: 'SK-CRM-01', name: 'Crème Riche Face Cream 50ml', category: 'skincare', replenishDays: 90, season: '', priceUsd: 420 },
  { sku: 'SK-CRM-02', name: 'Daily Moisture Face Cream 50ml', category: 'skincare', replenishDays: 90, season: '', priceUsd: 185 },
  { sku: 'SK-EYE-01', name: 'Eye Contour Cream 15ml', category: 'skincare', replenishDays: 90, season: '', priceUsd: 210 },
  { sku: 'SK-MSK-01', name: 'Overnight Repair Mask 75ml', category: 'skincare', replenishDays: 75, season: '', priceUsd: 120 },
  { sku: 'SK-SUN-01', name: 'Daily UV Shield SPF50 50ml', category: 'suncare', replenishDays: 60, season: 'summer', priceUsd: 68 },
  { sku: 'SK-SUN-02', name: 'After-Sun Soothing Gel 150ml', category: 'suncare', replenishDays: 45, season: 'summer', priceUsd: 42 },
  { sku: 'BD-CRM-01', name: 'Nourishing Body Cream 200ml', category: 'bodycare', replenishDays: 60, season: '', priceUsd: 95 },
  { sku: 'BD-HND-01', name: 'Rose Hand Cream 75ml', category: 'bodycare', replenishDays: 30, season: 'winter', priceUsd: 38 },
  { sku: 'MU-LIP-01', name: 'Velvet Lipstick "Rouge 12"', category: 'makeup', replenishDays: 120, season: '', priceUsd: 52 },
  { sku: 'MU-FDN-01', name: 'Silk Foundation SPF15 30ml', category: 'makeup', replenishDays: 120, season: '', priceUsd: 88 },
  { sku: 'MU-MSC-01', name: 'Volume Mascara', category: 'makeup', replenishDays: 90, season: '', priceUsd: 42 },
  { sku: 'MU-CUS-01', name: 'Cushion Compact Refill', category: 'makeup', replenishDays: 60, season: '', priceUsd: 58 },
  { sku: 'FR-EDP-01', name: 'Eau de Parfum, 50ml', category: 'fragrance', season: '', priceUsd: 195 },
  { sku: 'FR-EDP-02', name: 'Eau de Parfum, 100ml', category: 'fragrance', season: '', priceUsd: 285 },
  { sku: 'FR-EXT-01', name: 'Extrait de Parfum 75ml', category: 'fragrance', season: '', priceUsd: 420 },
  { sku: 'HM-CDL-01', name: 'Scented Candle 220g', category: 'home', season: 'winter', priceUsd: 95 },
  { sku: 'GS-SKN-01', name: 'Skincare Discovery Set', category: 'gift-sets', season: '', priceUsd: 150 },
  { sku: 'GS-FRG-01', name: 'Fragrance Discovery Set', category: 'gift-sets', season: '', priceUsd: 65 },
  { sku: 'AC-SCF-01', name: 'Silk Twill Scarf 90', category: 'accessories', season: '', priceUsd: 495 },
  { sku: 'AC-SGL-01', name: 'Acetate Sunglasses', category: 'accessories', season: 'summer', priceUsd: 460 },
  { sku: 'LG-SLG-01', name: 'Leather Card Holder', category: 'leather-goods', season: '', priceUsd: 390 },
  { sku: 'LG-BAG-01', name: 'Mini Top-Handle Bag', category: 'leather-goods', season: '', priceUsd: 2650 },
  { sku: 'LG-BAG-02', name: 'Leather Tote Bag', category: 'leather-goods', season: '', priceUsd: 3400 },
  { sku: 'RW-KNT-01', name: 'Cashmere Knit Sweater', category: 'ready-to-wear', season: 'winter', priceUsd: 1450 },
  { sku: 'RW-CT-01', name: 'Wool Double-Face Coat', category: 'ready-to-wear', season: 'winter', priceUsd: 3900 },
  { sku: 'RW-DRS-01', name: 'Linen Summer Dress', category: 'ready-to-wear', season: 'summer', priceUsd: 1250 },
  { sku: 'SH-LOF-01', name: 'Leather Loafers', category: 'shoes', season: '', priceUsd: 980 },
  { sku: 'SH-SND-01', name: 'Leather Sandals', category: 'shoes', season: 'summer', priceUsd: 850 },
  { sku: 'JW-RNG-01', name: '18k Gold Ring', category: 'jewelry', season: '', priceUsd: 4800 },
  { sku: 'JW-BRC-01', name: '18k Gold Bracelet', category: 'jewelry', season: '', priceUsd: 7800 },
  { sku: 'JW-NKL-01', name: 'Diamond Pendant Necklace', category: 'jewelry', season: '', priceUsd: 12500 },
  { sku: 'WT-AUT-01', name: 'Automatic Watch 36mm', category: 'watches', season: '', priceUsd: 18500 },
];

/** Rough units of each currency per USD; unknown currencies are priced 1:1. */
const USD_RATES: Record<string, number> = {
  USD: 1,
  EUR: 0.92,
  GBP: 0.79,
  CHF: 0.88,
  CAD: 1.37,
  AUD: 1.52,
  SGD: 1.34,
  CNY: 7.2,
  HKD: 7.8,
  JPY: 150,
  KRW: 1350,
};

export function usdRate(currency: string): number {
  return USD_RATES[currency] ?? 1;
}

/** Rounds to three significant whole units, as price lists do (3,024.00 -> 3,020.00). */
function niceUnits(units: number): number {
  if (units < 100) return Math.max(1, Math.round(units));
  const step = Math.pow(10, Math.floor(Math.log10(units)) - 2);
  return Math.round(units / step) * step;
}

/** Converts a USD amount into minor units of `currency` (used for prices and thresholds). */
export function usdToMinor(usd: number, currency: string, nice: boolean): number {
  const units = usd * usdRate(currency);
  const scale = Math.pow(10, currencyExponent(currency));
  return Math.round((nice ? niceUnits(units) : units) * scale);
}

export function buildCatalogue(currency: string): Product[] {
  return CATALOGUE.map((entry, index) => {
    const categoryIndex = (CATEGORIES as readonly string[]).indexOf(entry.category);
    if (categoryIndex < 0) throw new Error(`unknown category ${entry.category}`);
    return { ...entry, index, categoryIndex, priceMinor: usdToMinor(entry.priceUsd, currency, true) };
  });
}

/** How the emails name the catalogue's categories (config.categoryNames), in both template languages. */
export const CATEGORY_NAMES: Record<string, { en: string; 'zh-CN': string }> = {
  skincare: { en: 'Skincare', 'zh-CN': '护肤' },
  suncare: { en: 'Sun care', 'zh-CN': '防晒' },
  bodycare: { en: 'Body care', 'zh-CN': '身体护理' },
  makeup: { en: 'Makeup', 'zh-CN': '彩妆' },
  fragrance: { en: 'Fragrance', 'zh-CN': '香氛' },
  home: { en: 'Home', 'zh-CN': '家居' },
  'gift-sets': { en: 'Gift sets', 'zh-CN': '礼盒' },
  accessories: { en: 'Accessories', 'zh-CN': '配饰' },
  jewelry: { en: 'Jewellery', 'zh-CN': '珠宝' },
  'leather-goods': { en: 'Leather goods', 'zh-CN': '皮具' },
  'ready-to-wear': { en: 'Ready-to-wear', 'zh-CN': '成衣' },
  shoes: { en: 'Shoes', 'zh-CN': '鞋履' },
  watches: { en: 'Watches', 'zh-CN': '腕表' },
};

/** The sample brand's care and use tips per category (config.categoryCare), for the first-order-care emails. */
export const CATEGORY_CARE: Record<string, { en: string; 'zh-CN': string }> = {
  skincare: { en: 'Apply morning and evening on clean skin, a small amount warmed between your fingertips. Close the jar after use and keep it away from heat and sunlight.', 'zh-CN': '早晚洁面后取适量，于指尖稍加温热后轻柔涂抹。用后请盖紧瓶盖，避免高温与阳光直射。' },
  suncare: { en: 'Apply generously 15 minutes before going out and again every two hours, and after swimming.', 'zh-CN': '出门前15分钟足量涂抹，每两小时及游泳后请补涂。' },
  bodycare: { en: 'Massage into skin still slightly damp after a shower: it absorbs best then.', 'zh-CN': '沐浴后趁肌肤微润时按摩涂抹，吸收效果最佳。' },
  makeup: { en: 'Keep compacts and lipsticks closed and away from heat; clean brushes and puffs once a week.', 'zh-CN': '粉盒与唇膏用后请合盖，远离高温；化妆刷与粉扑建议每周清洁一次。' },
  fragrance: { en: 'Spray on pulse points, wrists and neck, without rubbing. Keep the bottle away from light and heat so the scent stays true.', 'zh-CN': '喷于手腕、颈部等脉搏处，无需揉搓。请避光、避热存放，让香气始终如初。' },
  'leather-goods': { en: 'Keep it in its dust bag when you are not using it, away from heat and moisture; wipe it with a soft dry cloth, never with water.', 'zh-CN': '不用时请放入防尘袋，远离高温与潮湿；请用柔软的干布轻拭，切勿沾水。' },
  accessories: { en: 'Fold silk along its hems and store it flat; for a stain, our care service will advise you before you try anything.', 'zh-CN': '丝巾请沿边折叠、平放收纳；如有污渍，请先咨询我们的护理服务再做处理。' },
  'ready-to-wear': { en: 'Follow the care label, hang knitwear folded rather than on a hanger, and let a garment rest a day between wears.', 'zh-CN': '请参照洗护标签打理；针织衣物宜折叠存放，不宜悬挂；每次穿着后让衣物休息一天。' },
};

/** The sample brand's shop: the demo config's sender.shopUrl and the products export's links. */
export const DEMO_SHOP_URL = 'https://shop.example.com/';
