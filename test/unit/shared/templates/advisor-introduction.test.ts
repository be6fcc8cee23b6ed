import { describe, expect, it } from 'vitest';
import { renderIntroduction } from '#shared/templates/advisor-introduction.ts';

const advisor = { advisorId: 'A02', name: '王芳', signature: '恒隆广场 资深顾问' };
const config = {
  brandName: 'Maison Lumière',
  categoryNames: { 'leather-goods': { en: 'Leather goods', 'zh-CN': '皮具' } },
  sender: { postalAddress: ['1 Demo Plaza, Suite 100', 'Shanghai 200000, China'] },
};

describe('the introduction email after a handover', () => {
  it("names the client's top category by its name in their language, never the raw key, and carries the brand's postal address", async () => {
    for (const locale of ['zh-CN', 'en'] as const) {
      const email = await renderIntroduction({ locale, firstName: '琳', tier: 'VIC', topCategory: 'leather-goods' }, advisor, config, 'https://unsubscribe.example.com/?t=abc');
      for (const part of [email.html, email.text]) {
        expect(part).not.toContain('leather-goods');
        expect(part).toContain(locale === 'zh-CN' ? '皮具' : 'Leather goods');
        expect(part).toContain('Shanghai 200000, China');
        expect(part).toContain('王芳');
      }
    }
  });

  it('says nothing of a category the config does not name in Chinese', async () => {
    const email = await renderIntroduction({ locale: 'zh-CN', tier: 'VIC', topCategory: 'home-scents' }, advisor, { ...config, sender: {} }, 'https://unsubscribe.example.com/?t=abc');
    expect(email.text).not.toContain('home-scents');
    expect(email.text).not.toContain('特别喜爱');
  });
});
