import type { Rng } from './random.ts';

/**
 * Plausible people for the sample export: names, emails, phones and addresses that fit the
 * client's market. Emails use example domains only, and phone numbers use fictional ranges
 * where one exists (555-01xx in the US, 07700 900xxx in the UK).
 */

export type MarketId = 'CN' | 'US-East' | 'US-West' | 'GB';

export interface City {
  name: string;
  zips: readonly string[];
  streets: readonly string[];
}

export interface Market {
  id: MarketId;
  locale: string;
  timeZone: string;
  countryCode: string;
  cities: readonly City[];
}

export const MARKETS: Record<MarketId, Market> = {
  CN: {
    id: 'CN',
    locale: 'zh-CN',
    timeZone: 'Asia/Shanghai',
    countryCode: 'CN',
    cities: [
      { name: 'Shanghai', zips: ['200040', '200031', '200120'], streets: ['南京西路', '淮海中路', '延安西路', '世纪大道'] },
      { name: 'Beijing', zips: ['100020', '100027', '100600'], streets: ['建国门外大街', '三里屯路', '金融大街'] },
      { name: 'Shenzhen', zips: ['518000', '518048'], streets: ['深南大道', '福华路'] },
      { name: 'Hangzhou', zips: ['310000', '310007'], streets: ['延安路', '文三路'] },
      { name: 'Chengdu', zips: ['610000', '610041'], streets: ['天府大道', '春熙路'] },
      { name: 'Guangzhou', zips: ['510000', '510623'], streets: ['天河路', '珠江新城华夏路'] },
    ],
  },
  'US-East': {
    id: 'US-East',
    locale: 'en-US',
    timeZone: 'America/New_York',
    countryCode: 'US',
    cities: [
      { name: 'New York', zips: ['10019', '10021', '10022', '10011', '10014'], streets: ['Park Avenue', 'West 54th Street', 'Madison Avenue', 'Bleecker Street'] },
      { name: 'Brooklyn', zips: ['11201', '11215', '11217'], streets: ['Court Street', 'Atlantic Avenue'] },
      { name: 'Greenwich', zips: ['06830'], streets: ['Greenwich Avenue'] },
    ],
  },
  'US-West': {
    id: 'US-West',
    locale: 'en-US',
    timeZone: 'America/Los_Angeles',
    countryCode: 'US',
    cities: [
      { name: 'Los Angeles', zips: ['90004', '90036', '90046', '90069'], streets: ['Sunset Boulevard', 'Melrose Avenue', 'Larchmont Boulevard'] },
      { name: 'Beverly Hills', zips: ['90210', '90212'], streets: ['Rodeo Drive', 'Canon Drive'] },
      { name: 'San Francisco', zips: ['94108', '94115', '94123'], streets: ['Fillmore Street', 'Union Street'] },
    ],
  },
  GB: {
    id: 'GB',
    locale: 'en-GB',
    timeZone: 'Europe/London',
    countryCode: 'GB',
    cities: [
      { name: 'London', zips: ['SW1X 7XL', 'W1K 4QY', 'NW3 5SJ', 'SW3 2AS', 'N1 1QP'], streets: ['Sloane Street', "King's Road", 'Marylebone High Street', 'Upper Street'] },
      { name: 'Edinburgh', zips: ['EH2 4AD', 'EH3 6SS'], streets: ['George Street'] },
    ],
  },
};

/** Market mix by brand zone: mostly the brand's home market. */
export function marketWeights(brandTimeZone: string): [MarketId, number][] {
  if (brandTimeZone.startsWith('America/')) {
    return [['US-East', 0.45], ['US-West', 0.3], ['GB', 0.1], ['CN', 0.15]];
  }
  if (brandTimeZone.startsWith('Europe/')) {
    return [['GB', 0.7], ['US-East', 0.1], ['US-West', 0.05], ['CN', 0.15]];
  }
  return [['CN', 0.76], ['US-East', 0.09], ['US-West', 0.07], ['GB', 0.08]];
}

/** [hanzi, pinyin] */
type Hanzi = readonly [string, string];

const CN_SURNAMES: readonly Hanzi[] = [
  ['王', 'wang'], ['李', 'li'], ['张', 'zhang'], ['刘', 'liu'], ['陈', 'chen'], ['杨', 'yang'], ['黄', 'huang'],
  ['赵', 'zhao'], ['吴', 'wu'], ['周', 'zhou'], ['徐', 'xu'], ['孙', 'sun'], ['马', 'ma'], ['朱', 'zhu'],
  ['胡', 'hu'], ['郭', 'guo'], ['何', 'he'], ['林', 'lin'], ['高', 'gao'], ['罗', 'luo'], ['郑', 'zheng'],
  ['梁', 'liang'], ['谢', 'xie'], ['宋', 'song'], ['唐', 'tang'], ['韩', 'han'], ['冯', 'feng'], ['邓', 'deng'],
  ['曹', 'cao'], ['沈', 'shen'], ['叶', 'ye'], ['欧阳', 'ouyang'],
];

const CN_GIVEN: readonly Hanzi[] = [
  ['欣怡', 'xinyi'], ['子涵', 'zihan'], ['雨桐', 'yutong'], ['梓萱', 'zixuan'], ['思彤', 'sitong'], ['诗涵', 'shihan'],
  ['可馨', 'kexin'], ['佳怡', 'jiayi'], ['婉清', 'wanqing'], ['静', 'jing'], ['丽', 'li'], ['芳', 'fang'], ['娜', 'na'],
  ['敏', 'min'], ['晓燕', 'xiaoyan'], ['雪', 'xue'], ['慧敏', 'huimin'], ['梦瑶', 'mengyao'], ['一诺', 'yinuo'],
  ['若曦', 'ruoxi'], ['嘉欣', 'jiaxin'], ['晨', 'chen'], ['悦', 'yue'], ['琳', 'lin'], ['婷婷', 'tingting'],
  ['浩然', 'haoran'], ['宇轩', 'yuxuan'], ['俊杰', 'junjie'], ['伟', 'wei'], ['磊', 'lei'], ['明轩', 'mingxuan'],
  ['博文', 'bowen'], ['志远', 'zhiyuan'], ['子豪', 'zihao'],
];

const EN_FIRST: readonly string[] = [
  'Emma', 'Olivia', 'Charlotte', 'Amelia', 'Sophia', 'Isabella', 'Grace', 'Chloé', 'Emily', 'Hannah', 'Lily',
  'Zoë', 'Ava', 'Mia', 'Harper', 'Madison', 'Evelyn', 'Abigail', 'Victoria', 'Eleanor', 'Audrey', 'Claire',
  'Natalie', 'Sarah', 'Rachel', 'Jessica', 'Lauren', 'Renée', 'Margaret', 'Alice', 'James', 'William',
  'Oliver', 'Henry', 'Alexander', 'Daniel', 'Michael', 'Thomas', 'Benjamin', 'Lucas',
];

const EN_LAST: readonly string[] = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Miller', 'Davis', 'Wilson', 'Taylor', 'Anderson', 'Moore',
  'Martin', 'Jackson', 'Thompson', 'White', 'Harris', 'Clark', 'Lewis', 'Walker', 'Hall', 'Young', 'King',
  'Wright', 'Scott', 'Green', 'Baker', 'Adams', 'Hill', "O'Brien", "O'Connor", 'Fitzgerald', 'Bennett',
  'Hughes', 'Evans', 'Roberts', 'Cooper', 'Morgan', 'Patel', 'Kim', 'Nguyen', 'Garcia', 'Lopez', 'Wong',
  'Lee', 'Davies', 'Smith-Jones', 'Müller',
];

export interface Person {
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  addressCity: string;
  addressZip: string;
  address1: string;
  countryCode: string;
}

/** ASCII letters only, lower-case ("O'Brien" -> "obrien", "Chloé" -> "chloe"). */
function asciiSlug(name: string): string {
  const slug = name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z]/g, '');
  return slug.length > 0 ? slug : 'client';
}

function digits(rng: Rng, count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) out += String(rng.int(0, 9));
  return out;
}

function phoneFor(rng: Rng, market: MarketId): string {
  switch (market) {
    case 'CN':
      // No fictional range exists for Chinese mobiles; these are random digits.
      return `+861${rng.pick(['38', '39', '59', '86', '88', '36'])}${digits(rng, 8)}`;
    case 'US-East':
      return `+1${rng.pick(['212', '646', '917'])}55501${digits(rng, 2)}`;
    case 'US-West':
      return `+1${rng.pick(['310', '213', '415'])}55501${digits(rng, 2)}`;
    case 'GB':
      return `+447700900${digits(rng, 3)}`;
  }
}

function addressFor(rng: Rng, market: Market): Pick<Person, 'addressCity' | 'addressZip' | 'address1' | 'countryCode'> {
  const city = rng.pick(market.cities);
  const street = rng.pick(city.streets);
  const number = rng.int(1, 1500);
  let address1: string;
  if (market.id === 'CN') address1 = `${street}${number}号 ${rng.int(2, 40)}0${rng.int(1, 8)}室`;
  else if (market.id === 'GB') address1 = rng.chance(0.5) ? `Flat ${rng.int(1, 24)}, ${number} ${street}` : `${number} ${street}`;
  else address1 = rng.chance(0.5) ? `${number} ${street}, Apt ${rng.int(1, 30)}${rng.pick(['A', 'B', 'C', 'D'])}` : `${number} ${street}`;
  return { addressCity: city.name, addressZip: rng.pick(city.zips), address1, countryCode: market.countryCode };
}

/**
 * A person for `market`. `uniqueDigits` must differ between clients: it ends every email's
 * local part (which otherwise never ends in a digit), which makes emails unique without
 * remembering the ones already issued.
 */
export function makePerson(rng: Rng, market: Market, uniqueDigits: string): Person {
  let firstName: string;
  let lastName: string;
  let first: string;
  let last: string;
  // Some clients abroad are Chinese, written in pinyin (Wei Chen); Chinese names in China.
  if (market.id === 'CN' || rng.chance(0.12)) {
    const surname = rng.pick(CN_SURNAMES);
    const given = rng.pick(CN_GIVEN);
    first = given[1];
    last = surname[1];
    if (market.id === 'CN') {
      firstName = given[0];
      lastName = surname[0];
    } else {
      firstName = first.charAt(0).toUpperCase() + first.slice(1);
      lastName = last.charAt(0).toUpperCase() + last.slice(1);
    }
  } else {
    firstName = rng.pick(EN_FIRST);
    lastName = rng.pick(EN_LAST);
    first = asciiSlug(firstName);
    last = asciiSlug(lastName);
  }
  const pattern = rng.int(0, 4);
  const local =
    pattern === 0 ? `${first}.${last}` : pattern === 1 ? `${first}${last}` : pattern === 2 ? `${first.charAt(0)}${last}` : pattern === 3 ? `${last}.${first}` : `${first}_${last}`;
  const domain = market.id === 'CN' && rng.chance(0.7) ? 'example.cn' : 'example.com';
  return {
    firstName,
    lastName,
    email: `${local}${uniqueDigits}@${domain}`,
    phone: rng.chance(0.7) ? phoneFor(rng, market.id) : '',
    ...addressFor(rng, market),
  };
}

/** Free-text notes a CRM team leaves (commas, quotes and a line break: valid CSV, must be quoted). */
export const NOTES: readonly string[] = [
  'Prefers "unscented" products',
  'Gift wrap, no invoice in parcel',
  'Sensitive skin; patch test first',
  'Deliver to concierge,\nnot to the flat',
  'Met at the Shanghai trunk show, 2024',
];
