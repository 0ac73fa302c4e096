/**
 * Secret parameter values travel to the instances as Cloud Assistant parameters, and task-events
 * needs them again to redact outputs. They are kept in the manifest only sealed (AES-256-GCM with a
 * key from the functions' configuration), so no object in the bucket ever holds them in clear.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export class SealError extends Error {
  override readonly name = 'SealError';
}

function keyBytes(key: string): Buffer {
  // Any configured text becomes a 32-byte key; a short key is a configuration mistake.
  if (key.length < 16) throw new SealError('the seal key must be at least 16 characters');
  return createHash('sha256').update(key).digest();
}

export function seal(values: string[], key: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyBytes(key), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(values), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

export function unseal(sealed: string, key: string): string[] {
  const raw = Buffer.from(sealed, 'base64');
  if (raw.length < 28) throw new SealError('sealed value is too short');
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyBytes(key), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    const values: unknown = JSON.parse(text);
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) throw new SealError('sealed value is not a list of strings');
    return values;
  } catch (e) {
    if (e instanceof SealError) throw e;
    throw new SealError('cannot unseal: wrong key or damaged value', { cause: e });
  }
}
