import { describe, expect, it } from 'vitest';
import { percentText, thresholdText } from '#shared/percent.ts';

describe('percentText', () => {
  it('shows a share with the digits asked for', () => {
    expect(percentText(0.1234)).toBe('12.3%');
    expect(percentText(0.3, 0)).toBe('30%');
    expect(percentText(0.0005, 2)).toBe('0.05%');
  });
});

describe('thresholdText', () => {
  it('shows a configured share as written, without trailing zeros', () => {
    expect(thresholdText(0.05)).toBe('5%');
    expect(thresholdText(0.5)).toBe('50%');
    expect(thresholdText(0.125)).toBe('12.5%');
    expect(thresholdText(0.0005)).toBe('0.05%');
    expect(thresholdText(1)).toBe('100%');
  });
});
