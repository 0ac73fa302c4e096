/**
 * Finding secrets in whatever the system wrote: log lines, queue journals, stored objects, chat
 * replies. A secret counts as found in its plain form and in every encoding fleetrun or its SDKs
 * could have wrapped it in on the way: JSON string escaping, URL encoding (component and form),
 * and base64 at any byte alignment — plus anything inside a base64 run, decoded once.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

export interface SecretHit {
  secret: string;
  /** Which encoding of the secret was found. */
  form: string;
  /** Where: a file path, "log line 12", "reply 3"… */
  where: string;
  /** Some characters around the hit, to tell what wrote it. */
  context: string;
}

/**
 * Base64 of `value` as it looks when it sits at byte offset 0, 1 or 2 of a larger buffer: only the
 * characters that depend on the value's bytes alone, so any embedding of it is matched.
 */
function base64Cores(value: Buffer, alphabet: 'base64' | 'base64url'): string[] {
  const cores: string[] = [];
  for (const shift of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(shift), value]).toString(alphabet).replace(/=+$/, '');
    // Drop the group that mixes in the padding bytes in front, and the group that may mix in what follows.
    const start = shift === 0 ? 0 : 4;
    const end = Math.floor((shift + value.length) / 3) * 4;
    if (end - start >= 8) cores.push(encoded.slice(start, end));
  }
  return cores;
}

/** Every form a secret is looked for in, named. */
export function secretForms(secret: string): { form: string; text: string }[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = [
    { form: 'plain', text: secret },
    { form: 'json-escaped', text: JSON.stringify(secret).slice(1, -1) },
    { form: 'url-encoded', text: encodeURIComponent(secret) },
    { form: 'form-encoded', text: new URLSearchParams({ x: secret }).toString().slice(2) },
    ...base64Cores(bytes, 'base64').map((text) => ({ form: 'base64', text })),
    ...base64Cores(bytes, 'base64url').map((text) => ({ form: 'base64url', text })),
  ];
  const seen = new Set<string>();
  return forms.filter((f) => f.text.length > 0 && !seen.has(f.text) && seen.add(f.text));
}

const BASE64_RUN = /[A-Za-z0-9+/_-]{16,}={0,2}/g;

/** Every hit of every secret in `text`; base64 runs in it are decoded once and searched too. */
export function findSecrets(text: string, secrets: readonly string[], where: string): SecretHit[] {
  const hits: SecretHit[] = [];
  const search = (haystack: string, suffix: string) => {
    for (const secret of secrets) {
      for (const { form, text: needle } of secretForms(secret)) {
        const at = haystack.indexOf(needle);
        if (at >= 0) hits.push({ secret, form: `${form}${suffix}`, where, context: haystack.slice(Math.max(0, at - 60), at + needle.length + 60) });
      }
    }
  };
  search(text, '');
  for (const run of text.match(BASE64_RUN) ?? []) {
    const decoded = Buffer.from(run.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    search(decoded, ' (inside decoded base64)');
  }
  return hits;
}

/** Every regular file under `dir`, recursively. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/** Scans every file under `dir` (as UTF-8 text: journals, sidecars and object bodies are text here). */
export async function scanFiles(dir: string, secrets: readonly string[]): Promise<{ files: number; hits: SecretHit[] }> {
  const files = await filesUnder(dir);
  const hits: SecretHit[] = [];
  for (const file of files) hits.push(...findSecrets(await readFile(file, 'utf8'), secrets, path.relative(dir, file)));
  return { files: files.length, hits };
}
