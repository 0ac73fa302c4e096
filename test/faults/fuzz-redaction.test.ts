/**
 * Redaction against what scripts do to values (issue 14, item 2), as a property: generated secrets
 * — letters and digits, quotes, `<>&+/=%`, spaces, tabs and newlines, accents and emoji, and
 * backslash escapes (`\t \n \\ \c \0101 \101 \x41 \e \u00e9`, a lone `\`) — leak into a script's
 * output the ways scripts leak them: as given, as the real `dash` and `bash` print them with
 * `echo`, `echo -e` and `printf %b` (up to a `\c`), each of those JSON-escaped, URL- and
 * form-encoded, HTML-escaped, base64-encoded inside a longer base64 text at any alignment, or cut to
 * a piece of 8 characters or more; between them, noise. After redaction, none of them is found: no
 * printed form in any encoding secret-scan.ts knows (base64 at any alignment, and inside decoded
 * base64 runs), and no 8 characters in a row of any leaked text (a shorter one not whole).
 *
 * The shells are the oracle: what the redactor works out (shared/runtime/redaction.ts) is checked
 * against what dash and bash really print. Noise is Greek and secrets have none, and no `*`, so a
 * leftover can only be the secret's own.
 */
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MIN_SECRET_LENGTH, redactorFor } from '../../shared/runtime/redaction.ts';
import { findSecrets } from '../support/secret-scan.ts';

/** Fixed, so a run is repeatable; set FLEETRUN_FUZZ_SEED to explore other cases (a failure prints its seed). */
const SEED = Number(process.env.FLEETRUN_FUZZ_SEED ?? 20_261_202);
const CASES = 300;
const FRAGMENT = 8;

const ESCAPES = ['\\t', '\\n', '\\c', '\\\\', '\\0101', '\\101', '\\x41', '\\e', '\\E', '\\u00e9', '\\q', '\\'];
const ODD = [' ', '"', "'", '<', '>', '&', '+', '/', '=', '%', '?', '#', '-', '_', '.', '~', 'é', '€', '😀', '\t', '\n'];
const piece = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789') },
  { weight: 2, arbitrary: fc.constantFrom(...ODD) },
  { weight: 2, arbitrary: fc.constantFrom(...ESCAPES) },
);
const secretArb = fc.array(piece, { minLength: 2, maxLength: 30 }).map((p) => p.join(''));
const noiseArb = fc.array(fc.constantFrom(...'αβγδεζηθικλμνξοπρστυφχψω'), { minLength: 1, maxLength: 12 }).map((p) => p.join(''));

/** How a script prints the value: as it is, or through a shell's `echo` / `printf %b`. */
const PRINTERS = {
  'as given': null,
  'dash echo': ['dash', 'echo "$1"'],
  'dash printf %b': ['dash', 'printf %b "$1"'],
  'bash printf %b': ['bash', 'printf %b "$1"'],
  'bash echo -e': ['bash', 'echo -e "$1"'],
} as const;
type Printer = keyof typeof PRINTERS;

const printedCache = new Map<string, string>();
/** What the shell writes, as the output is read back (UTF-8); echo's own newline stays in the output. */
function printed(value: string, printer: Printer): string {
  const how = PRINTERS[printer];
  if (!how) return value;
  const key = `${printer}\0${value}`;
  let out = printedCache.get(key);
  if (out === undefined) {
    out = execFileSync(how[0], ['-c', how[1], 'sh', value], { stdio: ['ignore', 'pipe', 'ignore'] }).toString('utf8');
    printedCache.set(key, out);
  }
  return out;
}

const html = (text: string, quote: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": quote })[c]!);

/** How a script encodes what it prints. `base64` wraps it in other bytes, `piece` cuts 8 or more characters out of it. */
const ENCODINGS = {
  plain: (t: string) => t,
  json: (t: string) => JSON.stringify(t).slice(1, -1),
  uri: (t: string) => encodeURIComponent(t),
  'uri, + for space': (t: string) => encodeURIComponent(t).replace(/%20/g, '+'),
  form: (t: string) => new URLSearchParams({ v: t }).toString().slice(2),
  html: (t: string) => html(t, '&#39;'),
  'html, hex quote': (t: string) => html(t, '&#x27;'),
  base64: (t: string, n: number) => Buffer.concat([Buffer.from('ΩΩ'.slice(0, n % 3), 'latin1'), Buffer.from(t, 'utf8'), Buffer.from('ΩΩΩ'.slice(0, n % 4), 'latin1')]).toString('base64'),
  piece: (t: string, n: number, m: number) => {
    const length = FRAGMENT + (m % Math.max(1, t.length - FRAGMENT + 1));
    const from = n % Math.max(1, t.length - length + 1);
    return t.slice(from, from + length);
  },
} as const;
type Encoding = keyof typeof ENCODINGS;

const leakArb = fc.record({
  secret: fc.nat(),
  printer: fc.constantFrom(...(Object.keys(PRINTERS) as Printer[])),
  encoding: fc.constantFrom(...(Object.keys(ENCODINGS) as Encoding[])),
  n: fc.nat(),
  m: fc.nat(),
  noise: noiseArb,
});

interface Leak {
  /** The text as the shell printed it, without echo's newline: what must not be found in any encoding. */
  shown: string;
  /** What went into the output, checked for pieces (the base64 text is checked by decoding instead). */
  text: string;
  /** Printed after it, unchecked: echo's newline. */
  tail: string;
  encoding: Encoding;
  how: string;
}

function leakOf(secret: string, l: { printer: Printer; encoding: Encoding; n: number; m: number }): Leak | undefined {
  const out = printed(secret, l.printer);
  const shown = l.printer.endsWith('echo') || l.printer.endsWith('echo -e') ? out.replace(/\n$/, '') : out;
  const how = `${l.printer}, ${l.encoding}`;
  // `echo … | base64` encodes echo's newline too; other encodings and pieces are of what the value became.
  if (l.encoding === 'base64') return { shown, text: ENCODINGS.base64(out, l.n), tail: '', encoding: l.encoding, how };
  if (l.encoding === 'piece' && shown.length < FRAGMENT) return undefined;
  return { shown, text: ENCODINGS[l.encoding](shown, l.n, l.m), tail: out.slice(shown.length), encoding: l.encoding, how };
}

/** Runs of 8 characters of `text` found in `haystack` (or `text` whole, if shorter). */
function fragmentsIn(haystack: string, text: string): string[] {
  if (text.length < FRAGMENT) return haystack.includes(text) ? [text] : [];
  const found: string[] = [];
  for (let i = 0; i + FRAGMENT <= text.length; i++) if (haystack.includes(text.slice(i, i + FRAGMENT))) found.push(text.slice(i, i + FRAGMENT));
  return found;
}

describe('Function: redactorFor — a property over generated secrets and what scripts do to them', () => {
  it('the shells are there and read escapes as the generator expects', () => {
    expect(printed('a\\tb\\cz', 'dash echo')).toBe('a\tb');
    expect(printed('a\\x41\\cz', 'bash printf %b')).toBe('aA');
  });

  it(`no form, encoding or 8-character piece of a secret survives (${CASES} outputs)`, () => {
    fc.assert(
      fc.property(fc.array(secretArb, { minLength: 1, maxLength: 3 }), fc.array(leakArb, { minLength: 1, maxLength: 6 }), noiseArb, (secrets, drawn, lead) => {
        const leaks = drawn.flatMap((d) => {
          const secret = secrets[d.secret % secrets.length]!;
          const leak = leakOf(secret, d);
          return leak && secret.length >= MIN_SECRET_LENGTH ? [{ ...leak, noise: d.noise }] : [];
        });
        const output = lead + leaks.map((l) => l.text + l.tail + l.noise).join('');
        const redacted = redactorFor(secrets).redact(output);

        const problems: string[] = [];
        for (const leak of leaks) {
          if (leak.shown.length >= MIN_SECRET_LENGTH) {
            for (const hit of findSecrets(redacted, [leak.shown], leak.how)) problems.push(`${leak.how}: ${hit.form} of ${JSON.stringify(leak.shown)} in ${JSON.stringify(hit.context)}`);
          }
          if (leak.encoding !== 'base64' && leak.text.length >= MIN_SECRET_LENGTH) {
            for (const piece of fragmentsIn(redacted, leak.text)) problems.push(`${leak.how}: ${JSON.stringify(piece)} of ${JSON.stringify(leak.text)} in ${JSON.stringify(redacted)}`);
          }
        }
        expect(problems).toEqual([]);
        // Noise is never taken for a secret: whatever is left of it is still there, in order.
        expect(redacted.replace(/[^αβγδεζηθικλμνξοπρστυφχψω]/gu, '')).toBe(output.replace(/[^αβγδεζηθικλμνξοπρστυφχψω]/gu, ''));
      }),
      { seed: SEED, numRuns: CASES },
    );
  }, 120_000);
});
