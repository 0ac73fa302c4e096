import { describe, expect, it } from 'vitest';
import { seal, SealError, unseal } from '../../shared/runs/seal.ts';
import { openSecrets, sealedSecretsSchema, sealSecrets } from '../../shared/runs/sealed-secrets.ts';

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

describe('Function: sealSecrets / openSecrets — one format for the dispatch request, the pending record and the manifest', () => {
  const key = 'a-configured-seal-key-0123456789';

  it('opens to the secret parameters by name, and everything to redact: values as sent and as printed', () => {
    const sealed = sealSecrets(['p_token', 'p_pw'], { p_token: 'dG9r', p_pw: 'cHc=', p_mount: 'Lw==' }, ['tok', 'pw', 'dG9r'], key);
    expect(sealedSecretsSchema.safeParse(sealed).success).toBe(true);
    expect(sealed).not.toContain('dG9r');
    expect(openSecrets(sealed, ['p_token', 'p_pw'], key)).toEqual({ parameters: { p_token: 'dG9r', p_pw: 'cHc=' }, redact: ['dG9r', 'cHc=', 'tok', 'pw'] });
    // task-events and the reconciler redact the whole list, as unseal gives it.
    expect(unseal(sealed, key)).toEqual(['dG9r', 'cHc=', 'tok', 'pw']);
  });

  it('refuses a secret parameter without a value, and sealed values that do not cover the names', () => {
    expect(() => sealSecrets(['p_token'], {}, [], key)).toThrow(/"p_token" has no value/);
    const sealed = sealSecrets(['p_a'], { p_a: 'x' }, [], key);
    expect(() => openSecrets(sealed, ['p_a', 'p_b'], key)).toThrow(SealError);
  });
});
