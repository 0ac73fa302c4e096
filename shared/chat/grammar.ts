/**
 * The chat command grammar, shared by every chat front end (Slack, DingTalk, Lark, the signed
 * webhook), so a command means the same thing wherever it is typed:
 *
 * ```
 * run <command> on <i-… ids | [tag] key=value …> [with k=v …] [timeout N] [concurrency N] [max-errors N|N%]
 * run script "<free-form script>" on …
 * status <run id> · stop <run id> · approve <run id> · deny <run id> · retry <run id> [failed|not-run|all] · runs [N] · jobs · help [topic]
 * ```
 *
 * The parser never interprets values: a `with` value is kept byte for byte (quotes, `;`, `$(…)`,
 * newlines and all), because it travels to the instance as a Cloud Assistant parameter and is
 * never spliced into script text (runs/command-script.ts decides how). Errors are one line that says what is
 * wrong and where; nothing here throws.
 */
import { LIMITS } from '../cloud-assistant/constants.ts';
import { countOrPercentFromText, type CountOrPercent } from '../runs/count-or-percent.ts';
import { RUN_ID } from '../runs/keys.ts';
import { RETRY_WHICH, type RetryWhich } from '../runs/retry-spec.ts';

/** A parsed chat command. `run` of a free-form script has `command: 'script'` and `script` set. */
export type ChatCommand =
  | {
      kind: 'run';
      command: string;
      targets: { instanceIds: string[] } | { tags: Record<string, string> };
      with: Record<string, string>;
      timeoutSeconds?: number;
      concurrency?: number;
      maxErrors?: CountOrPercent;
      script?: string;
    }
  | { kind: 'status'; runId: string }
  | { kind: 'stop'; runId: string }
  /** A decision on a run waiting for approval (chatops/approvals.ts). */
  | { kind: 'approve'; runId: string }
  | { kind: 'deny'; runId: string }
  /** A new run of a finished run's command and parameters on the instances `which` names (runs/retry-spec.ts). */
  | { kind: 'retry'; runId: string; which: RetryWhich }
  /** The last `limit` runs the asker may see. */
  | { kind: 'runs'; limit: number }
  | { kind: 'jobs' }
  | { kind: 'help'; topic?: string };

/** The result of parsing: a command, or one line saying what is wrong. */
export type Parsed = { ok: true; command: ChatCommand } | { ok: false; error: string };

/**
 * Limits on what one chat message may ask for. At 4 KB a message holds about 180 real instance ids
 * (22 characters each), so the id limit binds only where a front end allows longer text.
 */
export const CHAT_LIMITS = {
  /** Bytes of message text (UTF-8): far above any real command, small enough to parse cheaply. */
  textBytes: 4096,
  /** Instance ids in one `on`: beyond this, target by tag. */
  instanceIds: 1000,
  /** Tags in one `on`: RunCommand's ResourceTag.N limit. */
  tags: LIMITS.resourceTags,
} as const;

/**
 * How many runs `runs [N]` lists: 10 unless asked, at most 50. fleetrun's own bounds, not a
 * platform's: a reply of 50 runs with their report links is a screenful, and is found and written
 * within chat's few seconds.
 */
export const RUNS_LISTED = { default: 10, max: 50 } as const;

/** The limits a front end may set differently (the signed webhook may allow longer text). */
export interface ChatLimits {
  textBytes: number;
  instanceIds: number;
}

/** The help text every front end shows for `help` and after an error. */
export const USAGE = [
  'fleetrun commands:',
  '  run <command> on <targets> [with k=v …] [timeout N] [concurrency N] [max-errors N|N%]',
  '      targets: instance ids (on i-abc i-def, or on i-abc,i-def)',
  '               or tags, all of which must match (on env=prod role=web, or on tag env=prod)',
  '      with:    parameters of the command; quote a value with spaces: with msg="hello world"',
  '      timeout: seconds, 10 to 86400 (or 90s, 5m, 2h)',
  '      max-errors: stop sending after this many failures (a count, or a whole percentage like 10%)',
  '  run script "<script>" on <targets>   a free-form script, if your access allows it',
  '  status <run id>                      how a run is going (run ids look like r-20261123t101500-1a2b3c)',
  '  stop <run id>                        stop a run',
  '  approve <run id>                     start a run waiting for approval (not your own)',
  '  deny <run id>                        refuse a run waiting for approval',
  '  retry <run id> [failed|not-run|all]  run a finished run again on its failed (default), never-run or all instances',
  `  runs [N]                             the last N runs you may see, with their reports (default ${RUNS_LISTED.default}, at most ${RUNS_LISTED.max})`,
  '  jobs                                 the scheduled jobs',
  '  help [topic]                         this text, or help on a command',
].join('\n');

const COMMAND_WORDS = ['run', 'status', 'stop', 'approve', 'deny', 'retry', 'jobs', 'runs', 'help'] as const;
const RUN_KEYWORDS = ['on', 'with', 'timeout', 'concurrency', 'max-errors'] as const;
type RunKeyword = (typeof RUN_KEYWORDS)[number];
/** Spellings people type for a keyword; the canonical one is in RUN_KEYWORDS. */
const KEYWORD_ALIASES = new Map<string, RunKeyword>([
  ['maxerrors', 'max-errors'],
  ['max_errors', 'max-errors'],
]);
const TAG_WORDS = new Set(['tag', 'tags']);
/** Words that cannot name a catalog command: `run <word>` would read them as grammar. */
export const RESERVED_COMMAND_NAMES: readonly string[] = ['script', ...RUN_KEYWORDS, ...KEYWORD_ALIASES.keys(), ...TAG_WORDS];
/**
 * A command name as chat can type it, and so as the catalog must spell it: lowercase, so
 * `Run Disk-Check` typed on a phone still finds `disk-check`.
 */
export const COMMAND_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const INSTANCE_ID = /^i-[a-z0-9]{4,40}$/;
/** The custom parameter name rule of Cloud Assistant (common.ts), so any `with` key could be one. */
const PARAM_KEY = /^[A-Za-z0-9_-]{1,64}$/;
const RUN_ID_EXAMPLE = 'r-20261123t101500-1a2b3c';

class ParseError extends Error {}

/** Part of a word, and whether it was inside quotes (quoted text is never a keyword or separator). */
interface Segment {
  text: string;
  quoted: boolean;
}
interface Token {
  segments: Segment[];
  /** 1-based character position in the message as received, for error messages. */
  at: number;
}

function textOf(t: Token): string {
  return t.segments.map((s) => s.text).join('');
}

function isBare(t: Token): boolean {
  return t.segments.every((s) => !s.quoted);
}

/** The lowercased word when it is unquoted, so `"on"` in quotes is never the keyword. */
function bareWord(t: Token | undefined): string | undefined {
  return t && isBare(t) ? textOf(t).toLowerCase() : undefined;
}

function keywordOf(t: Token | undefined): RunKeyword | undefined {
  const w = bareWord(t);
  if (w === undefined) return undefined;
  if ((RUN_KEYWORDS as readonly string[]).includes(w)) return w as RunKeyword;
  // A Map, not an object: a word like "constructor" must not find Object.prototype's.
  return KEYWORD_ALIASES.get(w);
}

/** Splits a token at each unquoted `sep`, keeping quoted text whole. */
function splitUnquoted(t: Token, sep: string): Token[] {
  const parts: Token[] = [{ segments: [], at: t.at }];
  for (const s of t.segments) {
    if (s.quoted) {
      parts[parts.length - 1]!.segments.push(s);
      continue;
    }
    s.text.split(sep).forEach((piece, n) => {
      if (n > 0) parts.push({ segments: [], at: t.at });
      if (piece !== '') parts[parts.length - 1]!.segments.push({ text: piece, quoted: false });
    });
  }
  return parts;
}

/** `key=value` split at the first unquoted `=`; undefined when there is none. */
function splitPair(t: Token): { key: string; keyBare: boolean; value: string } | undefined {
  for (let i = 0; i < t.segments.length; i++) {
    const s = t.segments[i]!;
    if (s.quoted) continue;
    const eq = s.text.indexOf('=');
    if (eq < 0) continue;
    const before = [...t.segments.slice(0, i), { text: s.text.slice(0, eq), quoted: false }];
    const after = [{ text: s.text.slice(eq + 1), quoted: false }, ...t.segments.slice(i + 1)];
    return {
      key: before.map((x) => x.text).join(''),
      keyBare: before.every((x) => !x.quoted),
      value: after.map((x) => x.text).join(''),
    };
  }
  return undefined;
}

const DOUBLE_OPEN: Record<string, string> = { '"': '"', '\u201c': '\u201d' };
const SINGLE_OPEN: Record<string, string> = { "'": "'", '\u2018': '\u2019' };
/** Inside double quotes a backslash escapes only these, so `\d` or `C:\temp` stay as typed. */
const ESCAPABLE = new Set(['\\', '"', '\u201c', '\u201d']);

/**
 * Shell-like words. Chat apps on phones and Macs turn quotes into “curly” ones, so those pair up
 * too; a lone ’ (as in don’t) is just a character. Whitespace includes the no-break and ideographic
 * spaces chat clients put after mentions.
 */
function tokenize(text: string, base: number): Token[] {
  const tokens: Token[] = [];
  let current: Token | undefined;
  const append = (ch: string, quoted: boolean, at: number) => {
    current ??= { segments: [], at };
    const last = current.segments[current.segments.length - 1];
    if (last && last.quoted === quoted && !quoted) last.text += ch;
    else current.segments.push({ text: ch, quoted });
  };
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      if (current) tokens.push(current);
      current = undefined;
      i++;
      continue;
    }
    const close = DOUBLE_OPEN[ch] ?? SINGLE_OPEN[ch];
    if (close === undefined) {
      append(ch, false, base + i);
      i++;
      continue;
    }
    const double = ch in DOUBLE_OPEN;
    const start = i;
    current ??= { segments: [], at: base + i };
    let value = '';
    i++;
    for (;;) {
      if (i >= text.length) {
        const hint = double ? '' : ' — a value holding \' goes in "double quotes"';
        throw new ParseError(`unclosed ${ch} quote starting at character ${base + start}${hint}`);
      }
      const c = text[i]!;
      if (c === close) break;
      if (double && c === '\\' && i + 1 < text.length && ESCAPABLE.has(text[i + 1]!)) {
        value += text[i + 1]!;
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    i++;
    // A quoted part is its own segment even when empty, so `""` is a word holding ''.
    current.segments.push({ text: value, quoted: true });
  }
  if (current) tokens.push(current);
  return tokens;
}

/** Leading mentions, bot names and `/fleetrun`, which each platform adds in its own way. */
const LEADING_NOISE = /^[\s]*(?:<[@!][^>\s]*>|@\S+|\/?fleetrun(?=[\s:,]|$))[\s:,]*/i;

function stripLeading(text: string): { rest: string; skipped: number } {
  let rest = text;
  for (;;) {
    const m = LEADING_NOISE.exec(rest);
    if (!m || m[0] === '') break;
    rest = rest.slice(m[0].length);
  }
  return { rest, skipped: text.length - rest.length };
}

/** Edits between two words, a swap of neighbours counting as one (the commonest typo: "wiht"). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate closest to `word` when it is near enough to be a typo (one edit for short words,
 * two for longer ones); used for "did you mean" hints.
 */
export function closestWord(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  const allowed = w.length <= 4 ? 1 : 2;
  return best !== undefined && bestDistance > 0 && bestDistance <= allowed ? best : undefined;
}

function quoteWord(t: Token): string {
  return JSON.stringify(textOf(t));
}

function parseRunId(verb: 'status' | 'stop' | 'approve' | 'deny', tokens: Token[]): ChatCommand {
  const t = tokens[1];
  if (!t) throw new ParseError(`"${verb}" wants a run id, like ${verb} ${RUN_ID_EXAMPLE}`);
  const id = textOf(t).toLowerCase();
  if (!RUN_ID.test(id)) throw new ParseError(`${quoteWord(t)} is not a run id (they look like ${RUN_ID_EXAMPLE})`);
  if (tokens[2]) throw new ParseError(`unexpected ${quoteWord(tokens[2])} after the run id`);
  return { kind: verb, runId: id };
}

/** `retry <run id>` and, optionally, which of its instances. */
function parseRetry(tokens: Token[]): ChatCommand {
  const t = tokens[1];
  if (!t) throw new ParseError(`"retry" wants a run id, like retry ${RUN_ID_EXAMPLE}`);
  const id = textOf(t).toLowerCase();
  if (!RUN_ID.test(id)) throw new ParseError(`${quoteWord(t)} is not a run id (they look like ${RUN_ID_EXAMPLE})`);
  const w = tokens[2];
  if (tokens[3]) throw new ParseError(`unexpected ${quoteWord(tokens[3])} after ${quoteWord(w!)}`);
  if (!w) return { kind: 'retry', runId: id, which: 'failed' };
  const word = bareWord(w) ?? '';
  const which = RETRY_WHICH.find((x) => x === word);
  if (!which) {
    const guess = isBare(w) ? closestWord(textOf(w), RETRY_WHICH) : undefined;
    throw new ParseError(`"retry" retries ${RETRY_WHICH.join(', ')} instances, got ${quoteWord(w)}${guess ? ` — did you mean "${guess}"?` : ''}`);
  }
  return { kind: 'retry', runId: id, which };
}

/** `runs` and, optionally, how many. */
function parseRuns(tokens: Token[]): ChatCommand {
  const t = tokens[1];
  if (!t) return { kind: 'runs', limit: RUNS_LISTED.default };
  if (tokens[2]) throw new ParseError(`"runs" takes one number, got ${quoteWord(tokens[2])} too`);
  const raw = textOf(t);
  if (!/^\d{1,9}$/.test(raw)) throw new ParseError(`"runs" wants a number of runs, like runs 20; got ${quoteWord(t)}`);
  const limit = Number(raw);
  if (limit < 1 || limit > RUNS_LISTED.max) throw new ParseError(`"runs" lists 1 to ${RUNS_LISTED.max} runs, got ${limit}`);
  return { kind: 'runs', limit };
}

/** Whole seconds from `90`, `90s`, `5m` or `2h`. */
function parseSeconds(raw: string): number | undefined {
  const m = /^(\d{1,9})([smh]?)$/i.exec(raw);
  if (!m) return undefined;
  const unit = { '': 1, s: 1, m: 60, h: 3600 }[m[2]!.toLowerCase()] ?? 1;
  return Number(m[1]) * unit;
}

function parseRun(tokens: Token[], limits: ChatLimits): ChatCommand {
  const head = tokens[1];
  if (!head) throw new ParseError('"run" wants a command name: run <command> on <targets>');
  const headWord = bareWord(head);
  if (keywordOf(head)) throw new ParseError(`"run" wants a command name before "${headWord}": run <command> ${headWord} …`);

  let command: string;
  let script: string | undefined;
  let i = 2;
  if (headWord === 'script') {
    const body = tokens[2];
    if (!body || keywordOf(body)) throw new ParseError('"run script" wants the script in quotes: run script "df -h" on i-…');
    script = textOf(body);
    if (script.trim() === '') throw new ParseError('the script is empty');
    command = 'script';
    i = 3;
  } else {
    const name = textOf(head).toLowerCase();
    if (!COMMAND_NAME.test(name))
      throw new ParseError(`${quoteWord(head)} is not a command name (letters, digits, - _ and ., up to 64)`);
    command = name;
  }

  let targets: { instanceIds: string[] } | { tags: Record<string, string> } | undefined;
  const withValues = new Map<string, string>();
  let timeoutSeconds: number | undefined;
  let concurrency: number | undefined;
  let maxErrors: CountOrPercent | undefined;
  const seen = new Set<RunKeyword>();

  /** What to say about a word that is not where a keyword should be. */
  const unknownWord = (t: Token, context: string): never => {
    const w = textOf(t);
    const guess = isBare(t) ? closestWord(w, RUN_KEYWORDS) : undefined;
    if (guess) throw new ParseError(`unknown word "${w}" — did you mean "${guess}"?`);
    if (script !== undefined && !seen.has('on'))
      throw new ParseError(`unknown word "${w}" after the script — quote the whole script: run script "df -h" on …`);
    throw new ParseError(`unknown word "${w}" ${context}: expected ${RUN_KEYWORDS.join(', ')}`);
  };

  while (i < tokens.length) {
    const t = tokens[i]!;
    const keyword = keywordOf(t);
    if (!keyword) unknownWord(t, `after "run ${command}"`);
    if (seen.has(keyword!)) throw new ParseError(`"${keyword}" is given twice`);
    seen.add(keyword!);
    i++;
    // A section runs up to the next keyword.
    let end = i;
    if (keyword === 'on' || keyword === 'with') while (end < tokens.length && !keywordOf(tokens[end])) end++;
    else end = Math.min(i + 1, tokens.length);
    const section = tokens.slice(i, end);
    i = end;

    switch (keyword) {
      case 'on':
        targets = parseTargets(section, unknownWord, limits);
        break;
      case 'with':
        if (script !== undefined) throw new ParseError('a free-form script takes no "with" values');
        if (section.length === 0) throw new ParseError('"with" wants key=value pairs, got nothing');
        for (const [n, t2] of section.entries()) {
          const pair = splitPair(t2);
          if (!pair) {
            const guess = isBare(t2) ? closestWord(textOf(t2), RUN_KEYWORDS) : undefined;
            if (guess) throw new ParseError(`unknown word "${textOf(t2)}" — did you mean "${guess}"?`);
            const prev = n > 0 ? splitPair(section[n - 1]!) : undefined;
            if (prev)
              throw new ParseError(`"with" wants key=value pairs, got ${quoteWord(t2)} — quote a value that has spaces: ${prev.key}="${prev.value} ${textOf(t2)}"`);
            throw new ParseError(`"with" wants key=value pairs, got ${quoteWord(t2)}`);
          }
          if (!pair.keyBare || !PARAM_KEY.test(pair.key))
            throw new ParseError(
              pair.key === '' ? `"with": ${quoteWord(t2)} has no name before "="` : `"with": "${pair.key}" is not a parameter name (letters, digits, _ and -, up to 64)`,
            );
          if (withValues.has(pair.key)) throw new ParseError(`"with": "${pair.key}" is given twice`);
          withValues.set(pair.key, pair.value);
        }
        break;
      case 'timeout': {
        const v = section[0];
        if (!v) throw new ParseError('"timeout" wants a number of seconds, got nothing');
        const seconds = parseSeconds(textOf(v));
        if (seconds === undefined) throw new ParseError(`"timeout" wants a number of seconds, got ${quoteWord(v)}`);
        // No API document bounds Timeout (the service answers one it refuses); zero seconds is no timeout at all.
        if (seconds < 1) throw new ParseError(`"timeout" must be 1 second or more, got ${seconds}`);
        timeoutSeconds = seconds;
        break;
      }
      case 'concurrency': {
        const v = section[0];
        if (!v) throw new ParseError('"concurrency" wants a number of instances, got nothing');
        const raw = textOf(v);
        if (!/^\d{1,9}$/.test(raw)) throw new ParseError(`"concurrency" wants a number of instances, got ${quoteWord(v)}`);
        if (Number(raw) < 1) throw new ParseError('"concurrency" must be at least 1');
        concurrency = Number(raw);
        break;
      }
      case 'max-errors': {
        const v = section[0];
        if (!v) throw new ParseError('"max-errors" wants a count or a percentage (like 5 or 10%), got nothing');
        const raw = textOf(v);
        // The rule every layer holds a run to (runs/count-or-percent.ts): a count, or a whole percentage.
        const read = countOrPercentFromText(raw);
        if (!read.ok) {
          if (read.problem.rule === 'at-most-100') throw new ParseError(`"max-errors" percentage must be 0% to 100%, got ${raw}`);
          if (read.problem.rule === 'whole') throw new ParseError(`"max-errors" ${read.problem.message}, got ${raw}`);
          throw new ParseError(`"max-errors" wants a count or a percentage (like 5 or 10%), got ${quoteWord(v)}`);
        }
        maxErrors = read.value;
        break;
      }
    }
  }

  if (!targets) throw new ParseError('no targets: add "on i-…" or "on key=value"');
  return {
    kind: 'run',
    command,
    targets,
    // fromEntries defines own properties, so a key like __proto__ stays a plain key.
    with: Object.fromEntries(withValues),
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(maxErrors !== undefined ? { maxErrors } : {}),
    ...(script !== undefined ? { script } : {}),
  };
}

function parseTargets(section: Token[], unknownWord: (t: Token, context: string) => never, limits: ChatLimits): { instanceIds: string[] } | { tags: Record<string, string> } {
  let items = section;
  let tagsOnly = false;
  if (items[0] && TAG_WORDS.has(bareWord(items[0]) ?? '')) {
    tagsOnly = true;
    items = items.slice(1);
  }
  // Commas separate items as well as spaces: "i-a, i-b" and "i-a,i-b" are both two ids.
  const parts = items.flatMap((t) => splitUnquoted(t, ',')).filter((p) => p.segments.length > 0);
  if (parts.length === 0) throw new ParseError(tagsOnly ? 'no tags after "on tag": add key=value' : 'no targets: add "on i-…" or "on key=value"');

  const ids = new Set<string>();
  const tags = new Map<string, string>();
  for (const p of parts) {
    const pair = splitPair(p);
    if (pair) {
      if (!pair.keyBare || pair.key === '') throw new ParseError(`"on": ${quoteWord(p)} has no tag key before "="`);
      if (pair.key.length > LIMITS.tagKeyLength) throw new ParseError(`"on": tag key "${pair.key.slice(0, 20)}…" is longer than ${LIMITS.tagKeyLength} characters`);
      if (pair.value.length > LIMITS.tagValueLength) throw new ParseError(`"on": the value of tag "${pair.key}" is longer than ${LIMITS.tagValueLength} characters`);
      const before = tags.get(pair.key);
      if (before !== undefined && before !== pair.value)
        throw new ParseError(`"on": tag "${pair.key}" is given twice with different values; an instance has one value per tag`);
      tags.set(pair.key, pair.value);
      continue;
    }
    const word = textOf(p);
    if (isBare(p) && /^i-/i.test(word)) {
      if (tagsOnly) throw new ParseError(`after "on tag", give key=value pairs, got "${word}"`);
      if (!INSTANCE_ID.test(word)) throw new ParseError(`"${word}" is not an instance id (they look like i-bp1abcdef012345678, lowercase)`);
      ids.add(word);
      continue;
    }
    if (isBare(p) && closestWord(word, RUN_KEYWORDS)) unknownWord(p, '');
    throw new ParseError(`"on": "${word}" is neither an instance id (i-…) nor a tag (key=value)`);
  }
  if (ids.size > 0 && tags.size > 0) throw new ParseError('"on": give instance ids or tags, not both');
  if (ids.size > limits.instanceIds)
    throw new ParseError(`${ids.size} instance ids given; at most ${limits.instanceIds} — target that many by tag instead`);
  if (tags.size > CHAT_LIMITS.tags) throw new ParseError(`${tags.size} tags given; at most ${CHAT_LIMITS.tags}`);
  return ids.size > 0 ? { instanceIds: [...ids] } : { tags: Object.fromEntries(tags) };
}

/**
 * Parses one chat message. Leading mentions (`<@U123>`, `@fleetrun`), the bot's name and a
 * leading `/fleetrun` are dropped first; an empty message asks for help. Never throws.
 * `limits` defaults to {@link CHAT_LIMITS}.
 */
export function parseChatCommand(text: string, limits: ChatLimits = CHAT_LIMITS): Parsed {
  try {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > limits.textBytes) throw new ParseError(`the message is ${bytes} bytes; at most ${limits.textBytes} are allowed`);
    const { rest, skipped } = stripLeading(text);
    const tokens = tokenize(rest, skipped + 1);
    const first = tokens[0];
    if (!first) return { ok: true, command: { kind: 'help' } };
    const verb = bareWord(first);
    switch (verb) {
      case 'run':
        return { ok: true, command: parseRun(tokens, limits) };
      case 'status':
      case 'stop':
      case 'approve':
      case 'deny':
        return { ok: true, command: parseRunId(verb, tokens) };
      case 'retry':
        return { ok: true, command: parseRetry(tokens) };
      case 'runs':
        return { ok: true, command: parseRuns(tokens) };
      case 'jobs':
        if (tokens[1]) throw new ParseError(`"jobs" takes nothing more, got ${quoteWord(tokens[1])}`);
        return { ok: true, command: { kind: 'jobs' } };
      case 'help': {
        if (tokens[2]) throw new ParseError(`"help" takes one topic, got ${quoteWord(tokens[2])} too`);
        const topic = tokens[1] ? textOf(tokens[1]).toLowerCase() : undefined;
        return { ok: true, command: topic ? { kind: 'help', topic } : { kind: 'help' } };
      }
      default: {
        const word = textOf(first);
        const guess = isBare(first) ? closestWord(word, COMMAND_WORDS) : undefined;
        if (guess) throw new ParseError(`unknown command "${word}" — did you mean "${guess}"?`);
        throw new ParseError(`unknown command "${word}": try ${COMMAND_WORDS.join(', ')}`);
      }
    }
  } catch (e) {
    if (e instanceof ParseError) return { ok: false, error: e.message };
    // A bug here must still answer the chat with a line, not a stack trace.
    return { ok: false, error: 'could not understand the message' };
  }
}
