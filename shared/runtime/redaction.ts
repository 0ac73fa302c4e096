/**
 * Redaction of secret values from anything fleetrun writes: log lines, instance outputs and error
 * texts, and so every result, summary, report, queue message and chat reply built from them.
 *
 * A script rarely prints a secret exactly as it was given. `sh`'s `echo` turns `\t` into a tab and
 * stops at `\c`; a script may print a value JSON-, URL-, HTML- or base64-encoded, or cut a piece
 * out of it. So for each secret, redaction looks for:
 * - the value, and the value as `echo` and `printf %b` print it (dash's escapes, which every
 *   instance running scripts with a dash `sh` uses, and bash's, which add `\x`, `\u`, `\e`) — up
 *   to a `\c`, where they stop printing;
 * - each of those JSON-escaped, URL-encoded (`%20` and `+` for a space), form-encoded and
 *   HTML-escaped;
 * - its UTF-8 base64 (and base64url) at each of the three byte alignments, so the value is found
 *   inside a longer base64 text too;
 * - any run of {@link FRAGMENT_LENGTH} or more consecutive characters of any of those texts (a
 *   shorter text is looked for whole only).
 * Overlapping and touching matches become one {@link REDACTED}.
 *
 * A secret shorter than {@link MIN_SECRET_LENGTH} characters is not looked for: it would redact
 * ordinary words, and such a secret is a configuration mistake anyway. The same holds for each of
 * its forms (a value cut short by `\c` a few characters in).
 */

export const REDACTED = '***';

/** Secrets, and forms of them, shorter than this are not redacted (they would match ordinary words). */
export const MIN_SECRET_LENGTH = 4;

/** Any run of this many consecutive characters of a secret's form counts as the secret. */
export const FRAGMENT_LENGTH = 8;

export interface Redactor {
  /** The text with every form of every secret replaced by {@link REDACTED}. */
  redact(text: string): string;
}

/** A redactor that changes nothing: no secrets. */
export const NO_SECRETS: Redactor = { redact: (text) => text };

/** Redacts `text` once; a caller redacting many texts with the same secrets builds one {@link redactorFor} instead. */
export function redact(text: string, secrets: Iterable<string>): string {
  return redactorFor(secrets).redact(text);
}

/** One redactor for these secrets: the forms are worked out once, each text is then read in one pass. */
export function redactorFor(secrets: Iterable<string>): Redactor {
  const whole = new Set<string>();
  const fragments = new Set<string>();
  for (const secret of new Set(secrets)) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    for (const printed of printedForms(secret)) {
      for (const text of encodedAsText(printed)) {
        if (text.length < MIN_SECRET_LENGTH) continue;
        if (text.length < FRAGMENT_LENGTH) whole.add(text);
        else for (let i = 0; i + FRAGMENT_LENGTH <= text.length; i++) fragments.add(text.slice(i, i + FRAGMENT_LENGTH));
      }
      for (const core of base64Cores(Buffer.from(printed, 'utf8'))) whole.add(core);
    }
  }
  if (whole.size === 0 && fragments.size === 0) return NO_SECRETS;
  const needles = [...whole];
  return { redact: (text) => replaceRanges(text, matches(text, needles, fragments)) };
}

/** [start, end) of every whole needle and every fragment found in `text`. */
function matches(text: string, needles: readonly string[], fragments: ReadonlySet<string>): [number, number][] {
  const found: [number, number][] = [];
  for (const needle of needles) {
    for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) found.push([at, at + needle.length]);
  }
  // Every window of the text is one Set lookup: a 24 KB output is 24 K lookups whatever the number of secrets.
  if (fragments.size > 0) {
    for (let i = 0; i + FRAGMENT_LENGTH <= text.length; i++) {
      if (fragments.has(text.slice(i, i + FRAGMENT_LENGTH))) found.push([i, i + FRAGMENT_LENGTH]);
    }
  }
  return found;
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/** Replaces the ranges, merged where they overlap or touch, each widened so it splits no surrogate pair. */
function replaceRanges(text: string, ranges: [number, number][]): string {
  if (ranges.length === 0) return text;
  for (const r of ranges) {
    if (r[0] > 0 && isLowSurrogate(text.charCodeAt(r[0])) && isHighSurrogate(text.charCodeAt(r[0] - 1))) r[0]--;
    if (r[1] < text.length && isHighSurrogate(text.charCodeAt(r[1] - 1)) && isLowSurrogate(text.charCodeAt(r[1]))) r[1]++;
  }
  ranges.sort((a, b) => a[0] - b[0]);
  let out = '';
  let kept = 0;
  let [start, end] = ranges[0]!;
  for (const [s, e] of ranges.slice(1)) {
    if (s <= end) end = Math.max(end, e);
    else {
      out += text.slice(kept, start) + REDACTED;
      kept = end;
      [start, end] = [s, e];
    }
  }
  return out + text.slice(kept, start) + REDACTED + text.slice(end);
}

/** The value as given, and as `echo` and `printf %b` print it (a printed form shorter than the value was cut by `\c`). */
function printedForms(secret: string): Set<string> {
  return new Set([secret, ...ESCAPE_DIALECTS.map((d) => interpretEscapes(secret, d))]);
}

/** The text itself, JSON-escaped, URL-encoded (`%20` or `+` for a space), form-encoded and HTML-escaped. */
function encodedAsText(text: string): Set<string> {
  // encodeURIComponent throws on a lone surrogate; UTF-8, as any encoder sends it, has U+FFFD there.
  const uri = encodeURIComponent(Buffer.from(text, 'utf8').toString('utf8'));
  return new Set([
    text,
    JSON.stringify(text).slice(1, -1),
    uri,
    uri.replace(/%20/g, '+'),
    new URLSearchParams({ v: text }).toString().slice(2),
    ...HTML_QUOTES.map((quote) => escapeHtml(text, quote)),
  ]);
}

/** `'` as HTML escapers write it: numeric (fleetrun's report, lodash), hex (React, he) and named. */
const HTML_QUOTES = ['&#39;', '&#x27;', '&apos;'] as const;

function escapeHtml(text: string, quote: (typeof HTML_QUOTES)[number]): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": quote })[c]!);
}

/**
 * Base64 of `value` as it looks at byte offset 0, 1 or 2 of a larger buffer: only the characters
 * that depend on the value's bytes alone, so any embedding of it is matched (the full encoding, with
 * its padding, as `base64` prints the value alone, besides).
 */
function base64Cores(value: Buffer): string[] {
  const cores = [value.toString('base64'), value.toString('base64url')];
  for (const alphabet of ['base64', 'base64url'] as const) {
    for (const shift of [0, 1, 2]) {
      const encoded = Buffer.concat([Buffer.alloc(shift), value]).toString(alphabet);
      // Drop the group mixing in the bytes in front, and the last one, which may mix in what follows.
      const start = shift === 0 ? 0 : 4;
      const end = Math.floor((shift + value.length) / 3) * 4;
      cores.push(encoded.slice(start, end));
    }
  }
  // A short secret's core may be one 4-character group (3 of its bytes): hiding it is what keeps the
  // secret from being decoded whole out of a longer base64 text.
  return cores.filter((c) => c.length >= MIN_SECRET_LENGTH);
}

/**
 * How a shell's `echo` or `printf %b` reads backslashes. dash's `echo` and `printf %b` (one
 * routine, conv_escape_str in dash's src/bltin/printf.c): `\a \b \f \n \r \t \v \\`, octal `\0nnn`
 * and `\nnn`, `\c` stops the output, and since dash 0.5.11 `\e`; anything else is printed as it is,
 * backslash included. bash's `printf %b` adds `\E`, `\xHH`, `\uHHHH` and `\UHHHHHHHH`; its `echo -e`
 * (and `echo` under xpg_echo) reads octal only after a `\0`.
 */
interface EscapeDialect {
  /** `\1`–`\7` start an octal escape (up to three digits), not only `\0`. */
  octalWithoutZero: boolean;
  /** The letters that escape ESC: `e` for dash ≥ 0.5.11, `eE` for bash, none before. */
  escLetters: string;
  /** bash's `\x \u \U`. */
  hexEscapes: boolean;
}

const ESCAPE_DIALECTS: readonly EscapeDialect[] = [
  { octalWithoutZero: true, escLetters: 'e', hexEscapes: false }, // dash echo and printf %b
  { octalWithoutZero: true, escLetters: '', hexEscapes: false }, // the same before dash 0.5.11
  { octalWithoutZero: true, escLetters: 'eE', hexEscapes: true }, // bash printf %b
  { octalWithoutZero: false, escLetters: 'eE', hexEscapes: true }, // bash echo -e
];

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };
const isOctal = (c: string | undefined) => c !== undefined && c >= '0' && c <= '7';
const isHex = (c: string | undefined) => c !== undefined && /^[0-9A-Fa-f]$/.test(c);

/**
 * What the shell prints for `value` (without echo's newline). The shell works on bytes: the value's
 * UTF-8 in, bytes out, read back as UTF-8 as the output is (an octal escape may make any byte).
 */
export function interpretEscapes(value: string, dialect: EscapeDialect): string {
  const input = Buffer.from(value, 'utf8').toString('latin1');
  const out: number[] = [];
  const pushText = (text: string) => out.push(...Buffer.from(text, 'utf8'));
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c !== '\\') {
      out.push(input.charCodeAt(i++));
      continue;
    }
    const next = input[i + 1];
    if (next === 'c') break;
    if (next !== undefined && SIMPLE_ESCAPES[next] !== undefined) {
      out.push(SIMPLE_ESCAPES[next]);
      i += 2;
      continue;
    }
    if (next === '0' || (dialect.octalWithoutZero && isOctal(next))) {
      // After `\0` up to three more digits; after `\1`–`\7` up to two more.
      let j = i + 1;
      let digits = next === '0' ? 3 : 2;
      let code = next === '0' ? 0 : Number(next);
      j++;
      while (digits-- > 0 && isOctal(input[j])) code = code * 8 + Number(input[j++]);
      out.push(code & 0xff);
      i = j;
      continue;
    }
    if (next !== undefined && dialect.escLetters.includes(next)) {
      out.push(27);
      i += 2;
      continue;
    }
    if (dialect.hexEscapes && (next === 'x' || next === 'u' || next === 'U')) {
      const max = next === 'x' ? 2 : next === 'u' ? 4 : 8;
      let j = i + 2;
      while (j < i + 2 + max && isHex(input[j])) j++;
      if (j > i + 2) {
        const code = Number.parseInt(input.slice(i + 2, j), 16);
        if (next === 'x') out.push(code);
        else if (code <= 0x10ffff) pushText(String.fromCodePoint(code));
        i = j;
        continue;
      }
    }
    // Not an escape: the backslash is printed, and the next character is read as any other.
    out.push(92);
    i++;
  }
  return Buffer.from(out).toString('utf8');
}
