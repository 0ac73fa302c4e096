/**
 * What a catalog command (or a free-form script) becomes before it is sent: the script text and
 * the Cloud Assistant parameters, with the values checked. The catalog file's format is in
 * config/catalog.ts; shared/runs/build-run-spec.ts turns the result into a RunSpec.
 *
 * Injection safety is the point of this module. A parameter value never becomes script text: the
 * script refers to it as a shell variable (`"$mount"`), and {@link buildCatalogCommand} prepends a
 * preamble that sets the variable from a Cloud Assistant custom parameter holding the value
 * base64-encoded:
 *
 * ```sh
 * mount="$(printf '%s' '{{p_mount}}' | base64 -d && printf x)" || { …; exit 97; }; mount="${mount%x}"
 * ```
 *
 * Cloud Assistant substitutes `{{p_mount}}` as plain text, and the base64 alphabet (A–Z a–z 0–9 + / =)
 * cannot end a single-quoted shell word, so whatever the user typed — quotes, `;`, `$(…)`, newlines,
 * `{{ACS::InstanceId}}` — arrives as data. The trailing `x` keeps trailing newlines, which `$(…)`
 * would strip.
 */
import { closestWord } from '../chat/grammar.ts';
import { LIMITS, type CommandType, type TerminationMode } from '../cloud-assistant/constants.ts';
import { contentParameterNames } from '../cloud-assistant/requests/common.ts';
import type { CatalogEntry } from '../config/catalog.ts';
import { MIN_SECRET_LENGTH } from '../runtime/redaction.ts';
import type { OutputGroupingRules } from './output-normalise.ts';

/** Why a run cannot be built: the command is not in the catalog, a value does not fit, or its secrets cannot be sealed. */
export type RunSpecProblem = 'unknown-command' | 'bad-value' | 'no-seal-key';

/** A request that cannot become a run; the message is fit to show in chat and never repeats a value. */
export class RunSpecError extends Error {
  override readonly name = 'RunSpecError';
  constructor(
    message: string,
    readonly problem: RunSpecProblem = 'bad-value',
  ) {
    super(message);
  }
}

/** Prefix of the Cloud Assistant custom parameter that carries a catalog parameter (`mount` → `p_mount`). */
export const PARAMETER_PREFIX = 'p_';
/** Exit code of the preamble when a value cannot be decoded (no `base64` on the instance). */
export const DECODE_FAILED_EXIT_CODE = 97;

/** A pattern must match the whole value (like HTML's `pattern`), so `[a-z]+` cannot pass `a; rm -rf /`. */
export function wholeValuePattern(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`, 'u');
}

/** What a request may change about a command. */
export interface RunOverrides {
  timeoutSeconds?: number;
}

/**
 * A command ready to send, its values in clear: `parameters` holds every value as Cloud Assistant
 * gets it (base64 for a catalog command), secret ones included; `secretValues` the secret values as
 * the script prints them (decoded), which redaction must look for too. build-run-spec.ts seals the
 * secret ones before the command goes anywhere.
 */
export interface BuiltCommand {
  name: string;
  type: CommandType;
  script: string;
  timeoutSeconds: number;
  parameters?: Record<string, string>;
  /** Names in `parameters` whose values are secret. */
  secretParameters?: string[];
  workingDir?: string;
  username?: string;
  terminationMode?: TerminationMode;
  /** The catalog entry's output grouping rules, if it has any. */
  group?: OutputGroupingRules;
  secretValues: string[];
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text the instance can get back exactly: UTF-8 cannot carry lone surrogates, the shell cannot carry NUL. */
function checkValue(label: string, value: string): void {
  if (value.includes('\0')) throw new RunSpecError(`${label} contains a NUL character, which the shell cannot carry`);
  if (LONE_SURROGATE.test(value)) throw new RunSpecError(`${label} is not valid Unicode text`);
}

function checkTimeout(seconds: number): void {
  // No API document bounds Timeout: a value the service refuses comes back with its own code.
  if (!Number.isInteger(seconds) || seconds < 1) throw new RunSpecError(`the timeout must be a whole number of seconds, 1 or more, got ${seconds}`);
}

function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

/** Content and parameters count together, base64-encoded, against RunCommand's limit (startRun does not keep commands). */
function checkSize(script: string, parameters: Record<string, string>): void {
  const params = Object.keys(parameters).length ? base64Length(Buffer.byteLength(JSON.stringify(parameters))) : 0;
  const size = base64Length(Buffer.byteLength(script)) + params;
  if (size > LIMITS.unkeptContentBytes)
    throw new RunSpecError(`the script and its values come to ${size} bytes once encoded; Cloud Assistant takes at most ${LIMITS.unkeptContentBytes} — shorten the values`);
}

function shellQuoteMessage(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Lines that set each variable from its custom parameter (names are validated identifiers; values never appear). */
function preamble(type: CommandType, names: string[]): string[] {
  if (names.length === 0) return [];
  if (type === 'RunPowerShellScript')
    return [
      '# fleetrun: parameters arrive base64-encoded and are decoded into variables, never into script text',
      ...names.map((n) => `$${n} = [System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String('{{${PARAMETER_PREFIX}${n}}}'))`),
      '',
    ];
  return [
    '# fleetrun: parameters arrive base64-encoded and are decoded into variables, never into script text',
    ...names.flatMap((n) => [
      `${n}="$(printf '%s' '{{${PARAMETER_PREFIX}${n}}}' | base64 -d && printf x)" || ` +
        `{ echo ${shellQuoteMessage(`fleetrun: cannot decode parameter ${n} (is base64 installed?)`)} >&2; exit ${DECODE_FAILED_EXIT_CODE}; }`,
      `${n}="\${${n}%x}"`,
    ]),
    '',
  ];
}

/** The preamble goes after a `#!` line, which only works as the very first line. */
function withPreamble(body: string, lines: string[]): string {
  if (lines.length === 0) return body;
  if (body.startsWith('#!')) {
    const nl = body.indexOf('\n');
    if (nl < 0) return `${body}\n${lines.join('\n')}`;
    return `${body.slice(0, nl + 1)}${lines.join('\n')}\n${body.slice(nl + 1)}`;
  }
  return `${lines.join('\n')}\n${body}`;
}

/**
 * Turns a catalog command and a request's `with` values into what startRun sends. `with` keys
 * match parameter names ignoring case; unknown keys, missing required values and values that do
 * not match their pattern are a {@link RunSpecError} whose message never repeats a value.
 */
export function buildCatalogCommand(entry: CatalogEntry, name: string, withValues: Record<string, string>, overrides: RunOverrides = {}): BuiltCommand {
  const declared = Object.keys(entry.parameters);
  const byFolded = new Map(declared.map((n) => [n.toLowerCase(), n]));
  const given = new Map<string, string>();
  const unknown: string[] = [];
  for (const key of Object.keys(withValues)) {
    const param = byFolded.get(key.toLowerCase());
    if (!param) unknown.push(key);
    else if (given.has(param)) throw new RunSpecError(`"${param}" is given twice`);
    else given.set(param, withValues[key]!);
  }
  if (unknown.length > 0) {
    if (declared.length === 0) throw new RunSpecError(`${name} takes no parameters, got ${unknown.map((u) => `"${u}"`).join(', ')}`);
    const guess = unknown.length === 1 ? closestWord(unknown[0]!, declared) : undefined;
    throw new RunSpecError(
      `${name} has no parameter ${unknown.map((u) => `"${u}"`).join(', ')}${guess ? ` — did you mean "${guess}"?` : ''} (its parameters: ${declared.join(', ')})`,
    );
  }

  const missing = declared.filter((n) => entry.parameters[n]!.required && !given.get(n));
  if (missing.length > 0) throw new RunSpecError(`${name} needs ${missing.map((m) => `"${m}"`).join(', ')}: add with ${missing.map((m) => `${m}=…`).join(' ')}`);

  const parameters: Record<string, string> = {};
  const secretParameters: string[] = [];
  const secretValues = new Set<string>();
  for (const n of declared) {
    const p = entry.parameters[n]!;
    const value = given.get(n) ?? p.default ?? '';
    checkValue(`the value of "${n}"`, value);
    if (p.pattern !== undefined && !wholeValuePattern(p.pattern).test(value))
      throw new RunSpecError(`the value of "${n}" does not match the pattern ${p.pattern}`);
    const key = `${PARAMETER_PREFIX}${n}`;
    parameters[key] = Buffer.from(value, 'utf8').toString('base64');
    if (p.secret) {
      // Redaction cannot hide a value this short without blanking ordinary text (runtime/redaction.ts),
      // so such a value would reach outputs and reports in clear: refuse it before anything runs.
      if (value !== '' && value.length < MIN_SECRET_LENGTH) throw new RunSpecError(`the value of "${n}" is secret and must be at least ${MIN_SECRET_LENGTH} characters, so that it can be hidden in outputs and logs`);
      secretParameters.push(key);
      if (value !== '') secretValues.add(value);
    }
  }

  const timeoutSeconds = overrides.timeoutSeconds ?? entry.timeout;
  checkTimeout(timeoutSeconds);
  const script = withPreamble(entry.script, preamble(entry.type, declared));
  checkSize(script, parameters);
  return {
    name,
    type: entry.type,
    script,
    timeoutSeconds,
    ...(declared.length > 0 ? { parameters } : {}),
    ...(secretParameters.length > 0 ? { secretParameters } : {}),
    ...(entry.workingDir !== undefined ? { workingDir: entry.workingDir } : {}),
    ...(entry.username !== undefined ? { username: entry.username } : {}),
    ...(entry.terminationMode !== undefined ? { terminationMode: entry.terminationMode } : {}),
    ...(entry.group !== undefined ? { group: entry.group } : {}),
    secretValues: [...secretValues],
  };
}

/** What a free-form script run may set. */
export interface FreeFormOverrides extends RunOverrides {
  type?: CommandType;
}

/**
 * A free-form script (`run script "…"`), for users the policy lets run them. It has no
 * parameters: the script is the user's own text, sent as it is.
 */
export function buildScriptCommand(script: string, overrides: FreeFormOverrides = {}): BuiltCommand {
  if (script.trim() === '') throw new RunSpecError('the script is empty');
  checkValue('the script', script);
  // With a built-in like {{ACS::InstanceId}} present, startRun turns parameters on, and then any
  // other {{…}} (a docker --format '{{.Names}}', say) would be taken for a missing parameter.
  const custom = contentParameterNames(script);
  if (custom.length > 0 && /\{\{\s*acs\s*::/i.test(script))
    throw new RunSpecError(`"{{${custom[0]}}}" cannot stand next to a {{ACS::…}} built-in; write a literal {{ as '{''{'`);
  const timeoutSeconds = overrides.timeoutSeconds ?? LIMITS.defaultTimeoutSeconds;
  checkTimeout(timeoutSeconds);
  checkSize(script, {});
  return { name: 'script', type: overrides.type ?? 'RunShellScript', script, timeoutSeconds, secretValues: [] };
}
