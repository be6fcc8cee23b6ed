import { describe, expect, it } from 'vitest';
import { cachedKeys, staticKeys } from '#shared/unsubscribe/keys.ts';
import { mayNeedNewerKeys, signUnsubscribeToken, unsubscribeKeyId, verifyUnsubscribeToken } from '#shared/unsubscribe/token.ts';

const OLD = 'old-key-0123456789abcdefghijklmnopqrstuv';
const NEW = 'new-key-0123456789abcdefghijklmnopqrstuv';

/** A token as the sender signed it before tokens carried a key id: two parts. */
const legacyToken = (customerId: string, key: string) => signUnsubscribeToken(customerId, key).split('.').slice(0, 2).join('.');

describe('versioned unsubscribe tokens', () => {
  it('carry the id of the key that signed them, which tells nothing of the key', () => {
    const token = signUnsubscribeToken('c1', NEW);
    expect(token.split('.')[2]).toBe(unsubscribeKeyId(NEW));
    expect(unsubscribeKeyId(NEW)).toMatch(/^[A-Za-z0-9_-]{8}$/);
    expect(unsubscribeKeyId(NEW)).not.toBe(unsubscribeKeyId(OLD));
    expect(NEW).not.toContain(unsubscribeKeyId(NEW));
  });

  it('verify against the key they name, current or previous', () => {
    expect(verifyUnsubscribeToken(signUnsubscribeToken('c1', NEW), [NEW, OLD])).toBe('c1');
    expect(verifyUnsubscribeToken(signUnsubscribeToken('c1', OLD), [NEW, OLD])).toBe('c1');
    expect(verifyUnsubscribeToken(signUnsubscribeToken('c1', OLD), [NEW])).toBeUndefined();
    // A key id swapped onto another key's signature does not verify.
    const [id, sig] = signUnsubscribeToken('c1', OLD).split('.');
    expect(verifyUnsubscribeToken(`${id}.${sig}.${unsubscribeKeyId(NEW)}`, [NEW, OLD])).toBeUndefined();
  });

  it('keep the links already in inboxes working: a token without a key id is checked against every key held', () => {
    expect(legacyToken('c1', OLD).split('.')).toHaveLength(2);
    expect(verifyUnsubscribeToken(legacyToken('c1', OLD), [NEW, OLD])).toBe('c1');
    expect(verifyUnsubscribeToken(legacyToken('c1', NEW), [NEW, OLD])).toBe('c1');
    expect(verifyUnsubscribeToken(legacyToken('c1', 'someone-else-0123456789abcdefghijklmn'), [NEW, OLD])).toBeUndefined();
  });

  it('say when newer keys might verify a token: another key id, or no key id; never for a malformed token', () => {
    expect(mayNeedNewerKeys(signUnsubscribeToken('c1', NEW), [OLD])).toBe(true);
    expect(mayNeedNewerKeys(signUnsubscribeToken('c1', NEW), [NEW, OLD])).toBe(false);
    expect(mayNeedNewerKeys(legacyToken('c1', NEW), [OLD])).toBe(true);
    expect(mayNeedNewerKeys('not-a-token', [OLD])).toBe(false);
    expect(mayNeedNewerKeys(`${signUnsubscribeToken('c1', NEW)}x`, [OLD])).toBe(false);
  });
});

describe("the endpoint's keys", () => {
  it('load once, reload on demand at most once per interval, and retry a failed load', async () => {
    let now = 0;
    let loads = 0;
    let current: readonly string[] = [OLD];
    let failNext = false;
    const keys = cachedKeys(
      async () => {
        loads++;
        if (failNext) {
          failNext = false;
          throw new Error('extension not ready');
        }
        return current;
      },
      { now: () => now, minRefreshIntervalMs: 60_000 },
    );
    expect(await keys.get()).toEqual([OLD]);
    expect(await keys.get()).toEqual([OLD]);
    expect(loads).toBe(1);
    // The key rotates a second after the first load: the first reload is allowed at once...
    current = [NEW, OLD];
    now = 1_000;
    expect(await keys.refresh()).toEqual({ keys: [NEW, OLD], refreshed: true });
    expect(loads).toBe(2);
    // ...the next one only a minute later.
    now = 30_000;
    expect(await keys.refresh()).toEqual({ keys: [NEW, OLD], refreshed: false });
    expect(loads).toBe(2);
    now = 200_000;
    failNext = true;
    await expect(keys.refresh()).rejects.toThrow('not ready');
    expect(await keys.get()).toEqual([NEW, OLD]);
    expect(loads).toBe(4);
  });

  it('fixed keys never reload', async () => {
    expect(await staticKeys(OLD).refresh()).toEqual({ keys: [OLD], refreshed: false });
  });
});
