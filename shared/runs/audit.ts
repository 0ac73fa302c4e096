/**
 * The audit record: who asked fleetrun for what, on which targets, when, and what came of it. One
 * object per event, created once, under a time-ordered prefix of the runs bucket:
 *
 * ```
 * audit/<yyyy>/<mm>/<dd>/<ISO time>-<kind>.<result>-<id>.json
 * audit/2026/11/23/2026-11-23T10:15:00.123Z-run.started-r-20261123t101500-1a2b3c.json
 * ```
 *
 * OSS has no append (the ObjectStore port writes whole objects), so the record is a tree of
 * create-once objects whose keys sort by time (UTC): a listing by prefix is the history in order,
 * and a reader walks it newest first a day's folder at a time (pipeline/audit-log.ts). The key
 * names the event (`run.started`, `stop.refused`, …) so a reader after one kind need not open the
 * others; `<id>` is the run's id when the event has one, else random. The records are history:
 * no lifecycle rule expires them (deploy/cloud.ros.yaml's rules cover `runs/` and `chat/seen/`).
 *
 * What a record keeps, and why:
 * - who (`platform:user` and the channel, as a run's `requestedBy`), the command (`script` for a
 *   free-form script), the targets as asked (tags or instance ids), when, the outcome and the run id;
 * - the values of parameters the catalog declares and does not mark secret: they are what "what
 *   ran here last week?" is about (`mount=/`, `service=nginx`), and chat replies and the report
 *   show them already;
 * - of everything else only its name: secret parameters (the point), names the catalog does not
 *   declare (a refused run's: nothing says whether they are secret), and of a free-form script
 *   only its SHA-256 and length — free text no catalog declared, where an inline password could not
 *   be told from the rest, in a record kept for good;
 * - a refusal's code and the code's fixed meaning, never the answer's text (which may quote the
 *   request's words, values among them); for NotAllowed also the policy's reason, which names
 *   rules, actions and targets and never a parameter value (config/policy.ts).
 * Every text of the record, keys included, is passed through the redactor of the request's secret
 * values besides ({@link auditJson}), so a non-secret value that repeats a secret keeps `***`.
 *
 * `kind` says what the event is about; each kind has its results. Approvals (a run waiting for
 * one, approved, denied, expired) are one more kind, `approval`, written by whoever decides them.
 * A reader skips a record of a kind or version it does not know ({@link parseAuditRecord}), so a
 * newer writer never breaks an older reader.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { REFUSALS, type RefusalCode } from '../chat/refusals.ts';
import { OVERALL_STATUSES } from '../cloud-assistant/statuses.ts';
import { redactorFor } from '../runtime/redaction.ts';
import { countOrPercentSchema } from './count-or-percent.ts';
import { RUN_ID } from './keys.ts';
import { requestedBySchema, targetsSchema } from './run-spec.ts';

export const AUDIT_PREFIX = 'audit/';

const REFUSAL_CODES = Object.keys(REFUSALS) as [RefusalCode, ...RefusalCode[]];

/** A refusal: its code, the code's fixed meaning, and for NotAllowed the policy's reason. */
const refusedSchema = z.object({
  result: z.literal('refused'),
  code: z.enum(REFUSAL_CODES),
  reason: z.string(),
  /** The policy's reason (NotAllowed): rules, actions, targets; never a parameter value. */
  policy: z.string().optional(),
  /** Where it was refused: by chatops as it answered, or by dispatch once the targets were resolved. */
  stage: z.enum(['chat', 'dispatch']).default('chat'),
});

const base = {
  version: z.literal(1),
  at: z.iso.datetime(),
  /** Who asked, as a run's `requestedBy`: `platform:user` and the channel for chat, `job:<name>` for the schedule. */
  who: requestedBySchema,
};
const runId = z.string().regex(RUN_ID);

const runSchema = z.object({
  ...base,
  kind: z.literal('run'),
  /** Absent when the run was refused before it had one. */
  runId: runId.optional(),
  /** The catalog command, or `script`. */
  command: z.string().min(1),
  /** A free-form script: its SHA-256 (hex) and length in bytes, never its text. */
  script: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().min(0) }).optional(),
  targets: targetsSchema,
  /** Values of the declared, non-secret parameters, as given. */
  parameters: z.record(z.string(), z.string()).default({}),
  /** Names of parameters given whose values are not kept: the secret ones, and any the catalog does not declare. */
  withheld: z.array(z.string()).default([]),
  timeoutSeconds: z.number().int().positive().optional(),
  maxConcurrency: countOrPercentSchema.optional(),
  maxErrors: countOrPercentSchema.optional(),
  /** The run this one retries (`retry <run>`): its command and parameters are that run's. */
  retryOf: runId.optional(),
  /** `started`: accepted and handed to dispatch (the answer said "started"); a refusal at dispatch follows as its own record. */
  outcome: z.discriminatedUnion('result', [z.object({ result: z.literal('started') }), refusedSchema]),
});

/** A run's end, from its summary: written once, by the summarizer that stored summary.json. */
const finishSchema = z.object({
  ...base,
  kind: z.literal('finish'),
  runId,
  command: z.string().min(1),
  outcome: z.object({
    result: z.literal('finished'),
    status: z.enum(OVERALL_STATUSES),
    counts: z.object({ total: z.number().int().min(0), success: z.number().int().min(0), failed: z.number().int().min(0), stopped: z.number().int().min(0), skipped: z.number().int().min(0) }),
  }),
});

const stopSchema = z.object({
  ...base,
  kind: z.literal('stop'),
  /** Absent when the text named no run fleetrun could read. */
  runId: runId.optional(),
  /** The run's command, when the run was found. */
  command: z.string().min(1).optional(),
  outcome: z.discriminatedUnion('result', [z.object({ result: z.literal('requested') }), refusedSchema]),
});

/** `status`, `runs`, `jobs`, `retry` (refused before the run it names is known: a retry started or refused later is a `run` with `retryOf`), and `chat` for text that is no command: recorded when refused (an answer to them changes nothing). */
const refusedOnlySchema = (kind: 'status' | 'runs' | 'jobs' | 'chat' | 'retry') =>
  z.object({ ...base, kind: z.literal(kind), runId: runId.optional(), command: z.string().min(1).optional(), outcome: refusedSchema });

/**
 * Approvals (issue 15 part 4): a run waiting for one, and each decision on it. `requested` keeps
 * what the run would do as a run record does (targets as asked, parameters by the same rules,
 * limits) and who may approve it until when; a decision on a run found waiting keeps its targets.
 * A refusal of approve or deny before the run was found has neither.
 */
const approvalSchema = z.object({
  ...base,
  kind: z.literal('approval'),
  runId,
  command: z.string().min(1).optional(),
  script: runSchema.shape.script,
  targets: targetsSchema.optional(),
  parameters: z.record(z.string(), z.string()).optional(),
  withheld: z.array(z.string()).optional(),
  timeoutSeconds: runSchema.shape.timeoutSeconds,
  maxConcurrency: runSchema.shape.maxConcurrency,
  maxErrors: runSchema.shape.maxErrors,
  /** Who may approve (`platform:user` patterns; none listed: anyone the policy allows the run). */
  approvers: z.array(z.string()).optional(),
  /** When it expires unstarted if nobody decides. */
  expiresAt: z.iso.datetime().optional(),
  outcome: z.discriminatedUnion('result', [
    z.object({ result: z.literal('requested') }),
    z.object({ result: z.literal('approved') }),
    z.object({ result: z.literal('denied') }),
    z.object({ result: z.literal('expired') }),
    refusedSchema,
  ]),
});

export const auditRecordSchema = z.discriminatedUnion('kind', [
  runSchema,
  finishSchema,
  stopSchema,
  refusedOnlySchema('status'),
  refusedOnlySchema('runs'),
  refusedOnlySchema('jobs'),
  refusedOnlySchema('chat'),
  refusedOnlySchema('retry'),
  approvalSchema,
]);
export type AuditRecord = z.output<typeof auditRecordSchema>;
export type AuditRecordInput = z.input<typeof auditRecordSchema>;
export type AuditKind = AuditRecord['kind'];
export type RunAuditRecord = Extract<AuditRecord, { kind: 'run' }>;

/** A refusal outcome: the code's fixed meaning as the reason; the policy's own reason for NotAllowed. */
export function refusedOutcome(code: RefusalCode, options: { policyReason?: string; stage?: 'chat' | 'dispatch' } = {}) {
  return {
    result: 'refused' as const,
    code,
    reason: REFUSALS[code].meaning,
    ...(code === 'NotAllowed' && options.policyReason !== undefined ? { policy: options.policyReason } : {}),
    stage: options.stage ?? 'chat',
  };
}

/** A catalog entry's parameters, as far as the audit needs them: which are declared, which secret. */
export type DeclaredParameters = Readonly<Record<string, { secret?: boolean | undefined }>>;

/**
 * What a run record keeps of the values given: declared non-secret ones as given, the names of the
 * rest. `declared` is undefined when the command is not in the catalog: then no value is kept.
 */
export function auditedParameters(given: Readonly<Record<string, string>>, declared: DeclaredParameters | undefined): { parameters: Record<string, string>; withheld: string[] } {
  const parameters: Record<string, string> = {};
  const withheld: string[] = [];
  for (const [name, value] of Object.entries(given)) {
    const declaration = declared && Object.hasOwn(declared, name) ? declared[name] : undefined;
    if (declaration && !declaration.secret) Object.defineProperty(parameters, name, { value, enumerable: true, writable: true, configurable: true });
    else withheld.push(name);
  }
  return { parameters, withheld: withheld.sort() };
}

/** A free-form script as the record keeps it. */
export function auditedScript(script: string): { sha256: string; bytes: number } {
  return { sha256: createHash('sha256').update(script, 'utf8').digest('hex'), bytes: Buffer.byteLength(script, 'utf8') };
}

/** The values of secret parameters given to a request, for {@link auditJson}'s redaction. */
export function secretValuesOf(given: Readonly<Record<string, string>>, declared: DeclaredParameters | undefined): string[] {
  return Object.entries(given)
    .filter(([name]) => declared !== undefined && Object.hasOwn(declared, name) && declared[name]!.secret === true)
    .map(([, value]) => value);
}

/** Every string in `value`, keys of objects too, through `redact`. */
function redactDeep(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    // defineProperty: a key like __proto__ stays a plain key.
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, redact(k), { value: redactDeep(v, redact), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

/**
 * Fields fleetrun fills itself from a fixed vocabulary or its own values (the time, the kind, the
 * run id, a script's hash, an approval's expiry, an outcome's result, code, meaning, stage and status, who's kind): they
 * hold nothing typed, and redacting a coincidence in them (a secret with `dispatch` in it) would
 * only make the record unreadable. Named by position, so a tag or parameter called `kind` is
 * redacted as any other.
 */
const FIXED = { top: new Set(['version', 'at', 'kind', 'runId', 'script', 'expiresAt']), outcome: new Set(['result', 'code', 'reason', 'stage', 'status', 'counts']), who: new Set(['kind']) };

/** `fields` with every string of every field not named in `fixed` redacted. */
function redactExcept(fields: Record<string, unknown>, fixed: ReadonlySet<string>, redact: (text: string) => string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, fixed.has(k) ? v : redactDeep(v, redact)]));
}

/**
 * The record as stored: checked against the schema, and every string in it that came from a
 * request — keys too — with every form of every secret value replaced (runtime/redaction.ts)
 * before it is serialized, so a match never cuts through JSON's escapes.
 */
export function auditJson(record: AuditRecordInput, secrets: Iterable<string> = []): string {
  const checked = auditRecordSchema.parse(record);
  const { redact } = redactorFor(secrets);
  const { who, outcome, ...rest } = checked;
  return JSON.stringify({ ...redactExcept(rest, FIXED.top, redact), who: redactExcept(who, FIXED.who, redact), outcome: redactExcept(outcome, FIXED.outcome, redact) });
}

/** A stored record, or undefined for one that cannot be read or is of a kind or version this reader does not know. */
export function parseAuditRecord(text: string): AuditRecord | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = auditRecordSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

const two = (n: number) => String(n).padStart(2, '0');

/** The folder of a UTC day: `audit/yyyy/mm/dd/`. */
export function auditDayPrefix(at: Date): string {
  return `${AUDIT_PREFIX}${at.getUTCFullYear()}/${two(at.getUTCMonth() + 1)}/${two(at.getUTCDate())}/`;
}

/** An id fit for a key's last part: a run id, or the random one an event without a run gets. */
const KEY_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Where a record goes; `id` is its run's id, or a random one (hex) for an event without a run. */
export function auditKey(record: { at: string; kind: AuditKind; outcome: { result: string } }, id: string): string {
  if (!KEY_ID.test(id)) throw new Error(`an audit key's id is lowercase letters, digits and -, got "${id}"`);
  const at = new Date(record.at);
  return `${auditDayPrefix(at)}${at.toISOString()}-${record.kind}.${record.outcome.result}-${id}.json`;
}

/** What a key says of its record without opening it. */
export interface AuditKeyInfo {
  key: string;
  at: string;
  kind: string;
  result: string;
  /** The run id, or the random id of an event without a run. */
  id: string;
  runId: string | undefined;
}

const KEY_NAME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)-([a-z]+)\.([a-z]+)-([a-z0-9][a-z0-9-]*)\.json$/;

/** A key's parts, or undefined for one that is not an audit record's. */
export function parseAuditKey(key: string): AuditKeyInfo | undefined {
  if (!key.startsWith(AUDIT_PREFIX)) return undefined;
  const m = KEY_NAME.exec(key.slice(key.lastIndexOf('/') + 1));
  if (!m) return undefined;
  const id = m[4]!;
  return { key, at: m[1]!, kind: m[2]!, result: m[3]!, id, runId: RUN_ID.test(id) ? id : undefined };
}
