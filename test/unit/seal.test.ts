import { describe, expect, it } from 'vitest';
import { seal, SealError, unseal } from '../../shared/runs/seal.ts';

describe('Function: seal / unseal', () => {
  const key = 'a-configured-seal-key-0123456789';

  it('round-trips and never shows the values', () => {
    const sealed = seal(['hunter2-password', 'token-xyz'], key);
    expect(sealed).not.toContain('hunter2');
    expect(Buffer.from(sealed, 'base64').toString('latin1')).not.toContain('hunter2');
    expect(unseal(sealed, key)).toEqual(['hunter2-password', 'token-xyz']);
  });

  it('refuses a wrong key, a damaged value and a short key', () => {
    const sealed = seal(['x'], key);
    expect(() => unseal(sealed, 'another-key-of-enough-length')).toThrow(SealError);
    const damaged = Buffer.from(sealed, 'base64');
    damaged[damaged.length - 1]! ^= 1;
    expect(() => unseal(damaged.toString('base64'), key)).toThrow(/wrong key or damaged/);
    expect(() => seal(['x'], 'short')).toThrow(/at least 16/);
  });
});
