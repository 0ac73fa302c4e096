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
// Not part of a longer word, number or address on either side, so "std::vector" keeps its "d::"
// and 1.2.3.4.5 is not an address; "addr:10.0.3.17" and "10.0.3.17:8080" are. "::" alone is
// punctuation more often than the unspecified address, and stays.
const IP = `(?<![\\w:.])(?!::(?![\\w:]))${IPV6}(?![\\w:])|(?<![\\w.])${IPV4}(?!\\w|\\.\\d)`;

const HEX = [
  '0[xX][0-9A-Fa-f]+',
  // A UUID, whole.
  '[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}',
  // 8 or more hex digits with at least one digit and one letter: commit ids, container ids,
  // request ids. All digits is a number; all letters is a word ("deadbeef" stays).
  '(?=[0-9A-Fa-f]*\\d)(?=[0-9A-Fa-f]*[A-Fa-f])[0-9A-Fa-f]{8,}',
].join('|');

const NUMBER = '\\d+(?:\\.\\d+)?';

/** Each mask's expression, in the order they are tried at one position: the most specific first. */
const MASK_SOURCES: [Mask, string][] = [
  ['timestamps', `(?<!\\w)(?:${TIMESTAMP})(?!\\w)`],
  ['ips', IP],
  ['hex', `(?<!\\w)(?:${HEX})(?!\\w)`],
  ['numbers', NUMBER],
];

/** Normalises outputs by one set of rules; built once per run, used for every instance. */
export interface OutputNormaliser {
  readonly rules: OutputGroupingRules;
  normalise(output: string): string;
}

export function outputNormaliser(rules: OutputGroupingRules = EXACT_GROUPING): OutputNormaliser {
  const patterns = rules.patterns.map((p) => ({ re: compilePattern(p.regex, p.ignoreCase), as: p.as }));
  const enabled = MASK_SOURCES.filter(([m]) => rules.mask.includes(m));
  // One pass over the text for every built-in mask: a 24 KB output is scanned once, not four times,
  // and where two could match (a timestamp is also numbers) the more specific wins.
  const builtIn = enabled.length === 0 ? undefined : new RegExp(enabled.map(([m, s]) => `(?<${m}>${s})`).join('|'), 'g');
  const names = enabled.map(([m]) => m);
  const replaceBuiltIn = (...args: unknown[]): string => {
    const groups = args.at(-1) as Record<Mask, string | undefined>;
    for (const m of names) if (groups[m] !== undefined) return PLACEHOLDERS[m];
    // Unreachable: the match came from one of the named alternatives.
    return String(args[0]);
  };
  return {
    rules,
    normalise(output: string): string {
      let text = output;
      // The entry's own patterns first: they are written against the output as the script prints it.
      for (const p of patterns) text = text.replace(p.re, p.as);
      if (builtIn) text = text.replace(builtIn, replaceBuiltIn);
      // Trailing whitespace on each line (a CR of a CRLF line end among it), then at the end.
      return text.replace(/[^\S\n]+$/gm, '').replace(/\s+$/, '');
    },
  };
}
