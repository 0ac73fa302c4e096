/**
 * How an instance's output is normalised before it is grouped with others (issue 15, output
 * groups): outputs that differ only in what a catalog entry says does not matter count as one
 * answer. Trailing whitespace never matters; numbers, hex ids, IP addresses, timestamps and the
 * entry's own patterns matter unless the entry masks them:
 *
 * ```yaml
 * commands:
 *   disk-check:
 *     script: df -h "$mount"
 *     group:
 *       mask: [numbers, timestamps]        # any of numbers, hex, ips, timestamps
 *       patterns:                          # JavaScript regular expressions, matched anywhere
 *         - 'req-[a-z]+'                   # → <masked>
 *         - { regex: 'host \S+', as: 'host <host>', ignoreCase: true }
 * ```
 *
 * Pure: no I/O, no clock. The catalog parser (shared/config/catalog.ts) takes `outputGroupingSchema`
 * as a command's optional `group` field.
 */
import { z } from 'zod';

export const MASKS = ['numbers', 'hex', 'ips', 'timestamps'] as const;
export type Mask = (typeof MASKS)[number];

/** What a masked span becomes. Letters only, so no later mask matches a placeholder. */
export const PLACEHOLDERS: Record<Mask, string> = { numbers: '<n>', hex: '<hex>', ips: '<ip>', timestamps: '<time>' };
/** What a catalog pattern's match becomes unless the pattern says otherwise. */
export const DEFAULT_PATTERN_PLACEHOLDER = '<masked>';

function compilePattern(regex: string, ignoreCase: boolean): RegExp {
  // 'u': patterns are matched by code point, as the catalog's parameter patterns are (command-script.ts).
  return new RegExp(regex, ignoreCase ? 'giu' : 'gu');
}

const patternSchema = z
  .union([
    z.string().transform((regex) => ({ regex, as: DEFAULT_PATTERN_PLACEHOLDER, ignoreCase: false })),
    z.strictObject({ regex: z.string(), as: z.string().default(DEFAULT_PATTERN_PLACEHOLDER), ignoreCase: z.boolean().default(false) }),
  ])
  .superRefine((p, ctx) => {
    let re: RegExp;
    try {
      re = compilePattern(p.regex, p.ignoreCase);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(e as Error).message}` });
      return;
    }
    // A pattern that matches nothing at all would put a placeholder between every two characters.
    if (new RegExp(`^(?:${re.source})$`, re.flags.replace('g', '')).test(''))
      ctx.addIssue({ code: 'custom', message: `matches the empty text: ${p.regex}` });
  });

/** A catalog entry's `group` field. */
export const outputGroupingSchema = z.strictObject({
  mask: z
    .array(z.enum(MASKS, { error: `a mask is one of ${MASKS.join(', ')}` }))
    .default([])
    .transform((m) => MASKS.filter((k) => m.includes(k))),
  patterns: z.array(patternSchema).default([]),
});
export type OutputGroupingRules = z.output<typeof outputGroupingSchema>;
export type OutputGroupingInput = z.input<typeof outputGroupingSchema>;

/** No masks: outputs group when they are equal up to trailing whitespace. */
export const EXACT_GROUPING: OutputGroupingRules = { mask: [], patterns: [] };

const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const WEEKDAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const TIME_OF_DAY = '\\d{1,2}:\\d{2}:\\d{2}(?:[.,]\\d+)?';
const NUMERIC_ZONE = '[+-]\\d{2}(?::?\\d{2})?';
/** Longest forms first: at one position the first alternative that matches wins. */
const TIMESTAMP = [
  // ISO 8601 / RFC 3339: 2026-11-23, 2026-11-23T10:00:05.123Z, 2026-11-23 10:00:05+08:00
  `\\d{4}-\\d{2}-\\d{2}(?:[T ]\\d{2}:\\d{2}(?::\\d{2}(?:[.,]\\d+)?)?(?:Z|${NUMERIC_ZONE})?)?`,
  // Common Log Format (Apache, nginx): 10/Oct/2000:13:55:36 -0700
  `\\d{2}/${MONTH}/\\d{4}:${TIME_OF_DAY}(?: [+-]\\d{4})?`,
  // RFC 2822 / HTTP dates, `date -R`: Thu, 10 Oct 2000 13:55:36 +0000
  `(?:${WEEKDAY}, )?\\d{1,2} ${MONTH} \\d{4} ${TIME_OF_DAY}(?: (?:[+-]\\d{4}|GMT|UTC))?`,
  // syslog (RFC 3164) and date(1): Oct 10 13:55:36, Tue Oct 10 13:55:36 UTC 2000. A zone only
  // before a year, so a capitalised word after a syslog stamp ("ERROR") is not taken for one.
  `(?:${WEEKDAY},? )?${MONTH} {1,2}\\d{1,2} ${TIME_OF_DAY}(?:(?: [A-Z]{2,5})? \\d{4}(?!\\d))?`,
  // A time of day alone: 13:55:36, 13:55:36.123
  TIME_OF_DAY,
].join('|');

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = `(?:${OCTET}\\.){3}${OCTET}`;
const H16 = '[0-9A-Fa-f]{1,4}';
const LS32 = `(?:${H16}:${H16}|${IPV4})`;
/** RFC 3986's IPv6address, with an optional zone (fe80::1%eth0). */
const IPV6 = `(?:${[
  `(?:${H16}:){6}${LS32}`,
  `::(?:${H16}:){5}${LS32}`,
  `(?:${H16})?::(?:${H16}:){4}${LS32}`,
  `(?:(?:${H16}:){0,1}${H16})?::(?:${H16}:){3}${LS32}`,
  `(?:(?:${H16}:){0,2}${H16})?::(?:${H16}:){2}${LS32}`,
  `(?:(?:${H16}:){0,3}${H16})?::${H16}:${LS32}`,
  `(?:(?:${H16}:){0,4}${H16})?::${LS32}`,
  `(?:(?:${H16}:){0,5}${H16})?::${H16}`,
  `(?:(?:${H16}:){0,6}${H16})?::`,
].join('|')})(?:%[0-9A-Za-z]+)?`;
/** A whole candidate is an IPv6 address; "::" alone is punctuation more often than the unspecified address. */
const WHOLE_IPV6 = new RegExp(`^(?!::$)${IPV6}$`);
/**
 * IPv4 not inside a longer word, number or address: 1.2.3.4.5 is not one, "addr:10.0.3.17",
 * "10.0.3.17:8080" and "from 10.0.3.17." are.
 */
const IPV4_IN_TEXT = new RegExp(`(?<![\\w.])${IPV4}(?!\\w|\\.\\d)`, 'g');

const HEX_DIGIT = /^[0-9A-Fa-f]$/;
const ZONE_CHAR = /^[0-9A-Za-z]$/;
const WORD_CHAR = /^\w$/;
/** What an IPv6 address (without its zone) is made of: hex digits, colons, and the dots of an embedded IPv4. */
function isAddressChar(c: string | undefined): boolean {
  return c !== undefined && (c === ':' || c === '.' || HEX_DIGIT.test(c));
}

/**
 * IPv6 addresses by their colons: around each colon, the run of address characters (and a zone)
 * is masked if it is a whole address and no word goes on from either end ("std::vector" keeps its
 * "d::"). A regular expression tried at every hex digit of a 24 KB output costs several times more.
 */
function maskIpv6(text: string, placeholder: string): string {
  let out = '';
  let copied = 0;
  for (let colon = text.indexOf(':'); colon >= 0; ) {
    let start = colon;
    while (isAddressChar(text[start - 1])) start--;
    let end = colon + 1;
    while (isAddressChar(text[end])) end++;
    while (end > colon + 1 && text[end - 1] === '.') end--; // the full stop of a sentence
    if (text[end] === '%' && ZONE_CHAR.test(text[end + 1] ?? '')) for (end++; ZONE_CHAR.test(text[end] ?? ''); ) end++;
    const bounded = !WORD_CHAR.test(text[start - 1] ?? ' ') && !WORD_CHAR.test(text[end] ?? ' ');
    if (bounded && WHOLE_IPV6.test(text.slice(start, end))) {
      out += text.slice(copied, start) + placeholder;
      copied = end;
    }
    colon = text.indexOf(':', Math.max(end, colon + 1));
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * Hex ids: 0x…, a UUID whole, or a run of 8 or more hex digits standing alone (commit, container
 * and request ids). Whatever its digits: a random 12-digit id has no letter one time in 280 and no
 * decimal digit one in 130,000, and a 250-line log of such ids would split its group on either.
 * So with hex masked, a number of 8 digits or more is an id too; no English word is 8 letters of a–f.
 */
// The long run first: in this order V8 gives up on most positions sooner (half the time of the reverse, measured).
const HEX_IN_TEXT = /\b(?:[0-9A-Fa-f]{8,}(?:-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})?|0[xX][0-9A-Fa-f]+)\b/g;

const NUMBER = /\d+(?:\.\d+)?/g;
const TIMESTAMP_IN_TEXT = new RegExp(`\\b(?:${TIMESTAMP})\\b`, 'g');

/**
 * The built-in masks, in the order they run: the most specific first, so a timestamp is one <time>
 * and not numbers, an address one <ip>. Each is a pass with a constant replacement: V8 replaces
 * those several times faster than it calls a function per match.
 */
const MASK_PASSES: Record<Mask, (text: string) => string> = {
  timestamps: (t) => t.replace(TIMESTAMP_IN_TEXT, PLACEHOLDERS.timestamps),
  ips: (t) => maskIpv6(t, PLACEHOLDERS.ips).replace(IPV4_IN_TEXT, PLACEHOLDERS.ips),
  hex: (t) => t.replace(HEX_IN_TEXT, PLACEHOLDERS.hex),
  numbers: (t) => t.replace(NUMBER, PLACEHOLDERS.numbers),
};
const PASS_ORDER: Mask[] = ['timestamps', 'ips', 'hex', 'numbers'];

/** Normalises outputs by one set of rules; built once per run, used for every instance. */
export interface OutputNormaliser {
  readonly rules: OutputGroupingRules;
  normalise(output: string): string;
}

export function outputNormaliser(rules: OutputGroupingRules = EXACT_GROUPING): OutputNormaliser {
  const patterns = rules.patterns.map((p) => ({ re: compilePattern(p.regex, p.ignoreCase), as: p.as }));
  const passes = PASS_ORDER.filter((m) => rules.mask.includes(m)).map((m) => MASK_PASSES[m]);
  return {
    rules,
    normalise(output: string): string {
      let text = output;
      // The entry's own patterns first: they are written against the output as the script prints it.
      for (const p of patterns) text = text.replace(p.re, p.as);
      for (const pass of passes) text = pass(text);
      // Trailing whitespace on each line (a CR of a CRLF line end among it), then at the end.
      return text.split('\n').map((line) => line.trimEnd()).join('\n').trimEnd();
    },
  };
}
