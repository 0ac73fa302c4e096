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
 *     group:                        # optional: what does not matter when outputs are grouped
 *       mask: [numbers, timestamps] # any of numbers, hex, ips, timestamps
 *       patterns: ['req-[a-z0-9]+'] # JavaScript regular expressions; { regex, as, ignoreCase }
 * ```
 *
 * A parameter value never becomes script text: how a command and its values are turned into what
 * Cloud Assistant runs is in shared/runs/command-script.ts, and the run request in
 * shared/runs/run-spec.ts. This module reads and checks the catalog file.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { approvalFields } from './approval-fields.ts';
import { COMMAND_NAME, RESERVED_COMMAND_NAMES, closestWord } from '../chat/grammar.ts';
import { COMMAND_TYPES, LIMITS, TERMINATION_MODES } from '../cloud-assistant/constants.ts';
import { contentParameterNames, isKnownBuiltIn } from '../cloud-assistant/requests/common.ts';
import { PARAMETER_PREFIX, RunSpecError, wholeValuePattern } from '../runs/command-script.ts';
import { outputGroupingSchema } from '../runs/output-normalise.ts';

/** A catalog file that cannot be used; the message names the file, the command and the field. */
export class CatalogError extends Error {
  override readonly name = 'CatalogError';
}

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
    /** How the run's outputs are normalised before they are grouped (shared/runs/output-normalise.ts); absent: exactly, up to trailing whitespace. */
    group: outputGroupingSchema.optional(),
    /** `approval: required`: a run of it waits until someone else approves it (chatops/approvals.ts); `approvers` limits who. */
    ...approvalFields,
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
  if (guess) throw new RunSpecError(`unknown command "${name}" — did you mean "${guess}"?`, 'unknown-command');
  throw new RunSpecError(`unknown command "${name}"; the commands are: ${known.sort().join(', ') || '(none)'}`, 'unknown-command');
}
