/**
 * The command catalog: the named scripts chat users may run, and their parameters.
 *
 * ```yaml
 * commands:
 *   disk-check:
 *     description: Disk usage of a mount point
 *     type: RunShellScript          # default; or RunPowerShellScript, RunBatScript (no parameters)
 *     timeout: 60                   # seconds, default 60
 *     script: |
 *       df -h "$mount"
 *     parameters:
 *       mount: { description: mount point, default: /, pattern: '^/[A-Za-z0-9_./-]*$' }
 *       token: { secret: true, required: true }
 * ```
 *
 * Injection safety is the point of this module. A parameter value never becomes script text: the
 * script refers to it as a shell variable (`"$mount"`), and {@link buildRunSpec} prepends a preamble
 * that sets the variable from a Cloud Assistant custom parameter holding the value base64-encoded:
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
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { COMMAND_NAME, RESERVED_COMMAND_NAMES, closestWord } from '../chat/grammar.ts';
import { COMMAND_TYPES, LIMITS, TERMINATION_MODES, type CommandType } from '../cloud-assistant/constants.ts';
import { contentParameterNames, isKnownBuiltIn } from '../cloud-assistant/requests/common.ts';
import type { RunCommandSpec } from '../pipeline/start-run.ts';

/** A catalog file that cannot be used; the message names the file, the command and the field. */
export class CatalogError extends Error {
  override readonly name = 'CatalogError';
}

/** A request that the catalog entry does not accept; the message is fit to show in chat. */
export class RunSpecError extends Error {
  override readonly name = 'RunSpecError';
}

/** Prefix of the Cloud Assistant custom parameter that carries a catalog parameter (`mount` → `p_mount`). */
export const PARAMETER_PREFIX = 'p_';
/** Exit code of the preamble when a value cannot be decoded (no `base64` on the instance). */
export const DECODE_FAILED_EXIT_CODE = 97;

/** A shell (and PowerShell) variable name, short enough that `p_<name>` fits Cloud Assistant's 64 bytes. */
const PARAMETER_NAME = new RegExp(`^[A-Za-z_][A-Za-z0-9_]{0,${LIMITS.contentParameterNameBytes - PARAMETER_PREFIX.length - 1}}$`);
/** Variables the shell itself gives meaning to: setting one would change how the script runs. */
const SHELL_RESERVED = new Set([
  'PATH', 'IFS', 'HOME', 'ENV', 'BASH_ENV', 'CDPATH', 'PS1', 'PS2', 'PS4', 'OPTIND', 'OPTARG', 'PWD',
  'OLDPWD', 'SHELL', 'PPID', 'LINENO', 'RANDOM', 'SECONDS', 'UID', 'EUID', 'HOSTNAME', 'LANG', 'LC_ALL', 'TMPDIR',
]);
/** PowerShell's automatic variables (names ignore case there). */
const POWERSHELL_RESERVED = new Set([
  'args', 'input', 'host', 'home', 'pid', 'true', 'false', 'null', 'error', 'this', 'psitem', 'matches',
  'myinvocation', 'lastexitcode', 'pwd', 'profile', 'pshome', 'executioncontext', 'foreach', 'switch', 'event',
  'sender', 'stacktrace',
]);

const scalar = z.union([z.string(), z.number(), z.boolean()], { error: 'must be a string, number or boolean' }).transform(String);

/** A pattern must match the whole value (like HTML's `pattern`), so `[a-z]+` cannot pass `a; rm -rf /`. */
function wholeValuePattern(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`, 'u');
}

const parameterSchema = z
  .strictObject({
    description: z.string().optional(),
    default: scalar.optional(),
    pattern: z
      .string()
      .optional()
      .superRefine((p, ctx) => {
        if (p === undefined) return;
        try {
          wholeValuePattern(p);
        } catch (e) {
          ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(e as Error).message}` });
        }
      }),
    secret: z.boolean().default(false),
    required: z.boolean().default(false),
  })
  .superRefine((p, ctx) => {
    if (p.secret && p.default !== undefined)
      ctx.addIssue({ code: 'custom', path: ['default'], message: 'a secret parameter cannot have a default: it would sit in the catalog file in clear' });
    if (p.required && p.default !== undefined)
      ctx.addIssue({ code: 'custom', path: ['default'], message: 'a required parameter with a default is never missing: drop "required" or "default"' });
    if (p.default !== undefined && p.pattern !== undefined && !safeTest(p.pattern, p.default))
      ctx.addIssue({ code: 'custom', path: ['default'], message: `the default does not match the pattern ${p.pattern}` });
  });

function safeTest(pattern: string, value: string): boolean {
  try {
    return wholeValuePattern(pattern).test(value);
  } catch {
    return false;
  }
}

const parameterName = z
  .string()
  .regex(
    PARAMETER_NAME,
    `a parameter name is a shell variable name (letters, digits and _, not starting with a digit), at most ${LIMITS.contentParameterNameBytes - PARAMETER_PREFIX.length} characters`,
  )
  .refine((n) => !n.startsWith('__'), 'a parameter name cannot start with "__"')
  .refine((n) => !SHELL_RESERVED.has(n), 'this name means something to the shell itself; choose another');

const commandSchema = z
  .strictObject({
    description: z.string().default(''),
    type: z.enum(COMMAND_TYPES).default('RunShellScript'),
    timeout: z
      .number()
      .int()
      // A whole number of seconds; no API document bounds it, so the service answers a value it refuses.
      .positive('must be a whole number of seconds, 1 or more')
      .default(LIMITS.defaultTimeoutSeconds),
    script: z.string().refine((s) => s.trim() !== '', 'is empty'),
    parameters: z.record(parameterName, parameterSchema).default({}),
    workingDir: z.string().max(LIMITS.workingDirLength).optional(),
    username: z.string().min(1).max(LIMITS.usernameLength).optional(),
    terminationMode: z.enum(TERMINATION_MODES).optional(),
  })
  .superRefine((c, ctx) => {
    const names = Object.keys(c.parameters);
    if (names.length > LIMITS.parameterPairs)
      ctx.addIssue({ code: 'custom', path: ['parameters'], message: `${names.length} parameters; Cloud Assistant passes at most ${LIMITS.parameterPairs}` });
    if (names.length > 0 && c.type === 'RunBatScript')
      ctx.addIssue({ code: 'custom', path: ['parameters'], message: 'a RunBatScript cannot take parameters safely; use RunPowerShellScript' });
    // Cloud Assistant parameter names ignore case, so p_Mount and p_mount would be one parameter.
    const folded = new Map<string, string>();
    for (const n of names) {
      const f = n.toLowerCase();
      if (folded.has(f)) ctx.addIssue({ code: 'custom', path: ['parameters', n], message: `"${n}" and "${folded.get(f)}" differ only in case` });
      folded.set(f, n);
      if (c.type === 'RunPowerShellScript' && POWERSHELL_RESERVED.has(f))
        ctx.addIssue({ code: 'custom', path: ['parameters', n], message: `$${n} is a PowerShell automatic variable; choose another name` });
    }
    for (const name of contentParameterNames(c.script)) {
      ctx.addIssue({
        code: 'custom',
        path: ['script'],
        message: `"{{${name}}}" would be filled in by Cloud Assistant as script text; refer to parameters as variables ("$name"), and write a literal {{ as '{''{'`,
      });
      return;
    }
    for (const m of c.script.matchAll(/\{\{\s*(acs\s*::[\s\S]*?)\s*\}\}/gi))
      if (!isKnownBuiltIn(m[1]!)) ctx.addIssue({ code: 'custom', path: ['script'], message: `"{{${m[1]}}}" is not a Cloud Assistant built-in parameter` });
  });

/** One command of the catalog, defaults filled in. */
export type CatalogEntry = z.output<typeof commandSchema>;
/** One declared parameter of a command. */
export type CatalogParameter = CatalogEntry['parameters'][string];

const catalogSchema = z.strictObject({
  commands: z.record(
    z
      .string()
      .regex(COMMAND_NAME, 'a command name is lowercase letters, digits, - _ and ., up to 64, as chat can type it')
      .refine((n) => !RESERVED_COMMAND_NAMES.includes(n), 'this word is part of the chat grammar and cannot name a command'),
    commandSchema,
  ),
});

/** A parsed catalog. Look commands up with {@link findCommand}, which ignores inherited names. */
export type Catalog = z.output<typeof catalogSchema>;

/**
 * Parses YAML text with a zod schema; the first problem becomes one error line that names the
 * file and, through `where` (given the issue's path and the parsed YAML), the entry and field.
 * Shared by the catalog and the policy file.
 */
export function parseYamlFile<S extends z.ZodType>(
  text: string,
  source: string,
  schema: S,
  where: (path: PropertyKey[], data: unknown) => string,
  makeError: (message: string, cause: unknown) => Error,
): z.output<S> {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (e) {
    throw makeError(`${source}: not valid YAML: ${(e as Error).message}`, e);
  }
  if (data === null || data === undefined) throw makeError(`${source}: the file is empty`, undefined);
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  // A bad record key reports its own message one level down; a missing field just "is required".
  let message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
  if (issue.code === 'invalid_type' && /received undefined$/.test(message)) message = 'is required';
  throw makeError(`${source}: ${where(issue.path, data)}: ${message}`, result.error);
}

function catalogWhere(path: PropertyKey[]): string {
  if (path[0] !== 'commands' || path.length < 2) return path.join('.') || '(top level)';
  const rest = path.slice(2);
  return `command "${String(path[1])}"${rest.length ? `, ${rest.join('.')}` : ''}`;
}

/** Parses a catalog file's text; a problem names the file (`source`), the command and the field. */
export function parseCatalog(text: string, source = 'catalog file'): Catalog {
  return parseYamlFile(text, source, catalogSchema, catalogWhere, (m, cause) => new CatalogError(m, { cause }));
}

/** Reads and parses a catalog file. */
export async function loadCatalog(path: string): Promise<Catalog> {
  return parseCatalog(await readFile(path, 'utf8'), path);
}

/**
 * The catalog entry a chat command names, or a {@link RunSpecError} with a "did you mean" hint.
 * Only the catalog's own names count, so `run constructor …` finds nothing.
 */
export function findCommand(catalog: Catalog, name: string): CatalogEntry {
  if (Object.hasOwn(catalog.commands, name)) return catalog.commands[name]!;
  const known = Object.keys(catalog.commands);
  const guess = closestWord(name, known);
  if (guess) throw new RunSpecError(`unknown command "${name}" — did you mean "${guess}"?`);
  throw new RunSpecError(`unknown command "${name}"; the commands are: ${known.sort().join(', ') || '(none)'}`);
}

/** What a chat request may change about a command. */
export interface RunOverrides {
  timeoutSeconds?: number;
}

/**
 * A {@link RunCommandSpec} and the secret values as they will appear in output (decoded), which
 * redaction must look for: `parameters` holds only their base64 forms.
 */
export type BuiltRunSpec = RunCommandSpec & { secretValues: string[] };

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
 * Turns a catalog command and a chat request's `with` values into what startRun sends. `with`
 * keys match parameter names ignoring case; unknown keys, missing required values and values
 * that do not match their pattern are a {@link RunSpecError} whose message never repeats a value.
 */
export function buildRunSpec(entry: CatalogEntry, name: string, withValues: Record<string, string>, overrides: RunOverrides = {}): BuiltRunSpec {
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
export function buildFreeFormSpec(script: string, overrides: FreeFormOverrides = {}): BuiltRunSpec {
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
