/**
 * The audit records of chat commands (runs/audit.ts): what chatops writes for a run it starts or
 * refuses, a stop it hands on, and a refusal of any command. Built from the parsed command and the
 * catalog, which says which parameters are secret; nothing here reads the message's text, which
 * may hold parameter values in words no parser understood.
 */
import type { ChatCommand } from '../chat/grammar.ts';
import type { RefusalCode } from '../chat/refusals.ts';
import type { Targets } from '../cloud-assistant/targets.ts';
import type { Catalog } from '../config/catalog.ts';
import { auditedParameters, auditedScript, refusedOutcome, secretValuesOf, type AuditRecordInput, type DeclaredParameters } from '../runs/audit.ts';
import type { RunSpec } from '../runs/run-spec.ts';
import { PARAMETER_PREFIX } from '../runs/command-script.ts';
import { openSecrets } from '../runs/sealed-secrets.ts';

/** A record to append, with the secret values to redact from it. */
export interface AuditEvent {
  record: AuditRecordInput;
  secrets: string[];
}

export interface ChatAuditContext {
  who: RunSpec['requestedBy'];
  at: Date;
  catalog: Catalog;
}

type RunCommand = Extract<ChatCommand, { kind: 'run' }>;

function declaredOf(catalog: Catalog, c: RunCommand): DeclaredParameters | undefined {
  if (c.script !== undefined || !Object.hasOwn(catalog.commands, c.command)) return undefined;
  return catalog.commands[c.command]!.parameters;
}

/** What every record starts with: its version, when and who. */
function recordHead(ctx: Pick<ChatAuditContext, 'who' | 'at'>) {
  return { version: 1 as const, at: ctx.at.toISOString(), who: ctx.who };
}

/** A run (or retry) the chat started, with its id, or refused with its code. */
type RunOutcome = { runId: string } | { refused: RefusalCode; policyReason?: string };
const runIdOf = (outcome: RunOutcome) => ('runId' in outcome ? { runId: outcome.runId } : {});
const runResultOf = (outcome: RunOutcome) =>
  'runId' in outcome ? { result: 'started' as const } : refusedOutcome(outcome.refused, outcome.policyReason !== undefined ? { policyReason: outcome.policyReason } : {});

/** A run asked for in chat: started (with its run id) or refused. */
export function runEvent(c: RunCommand, ctx: ChatAuditContext, outcome: RunOutcome): AuditEvent {
  const declared = declaredOf(ctx.catalog, c);
  return {
    record: {
      ...recordHead(ctx),
      kind: 'run',
      ...runIdOf(outcome),
      command: c.script !== undefined ? 'script' : c.command,
      ...(c.script !== undefined ? { script: auditedScript(c.script) } : {}),
      targets: c.targets,
      ...auditedParameters(c.with, declared),
      ...(c.timeoutSeconds !== undefined ? { timeoutSeconds: c.timeoutSeconds } : {}),
      ...(c.concurrency !== undefined ? { maxConcurrency: c.concurrency } : {}),
      ...(c.maxErrors !== undefined ? { maxErrors: c.maxErrors } : {}),
      outcome: runResultOf(outcome),
    },
    secrets: secretValuesOf(c.with, declared),
  };
}

/**
 * A built command's parameters as they were typed: a catalog command's travel as `p_<name>`,
 * base64-encoded (command-script.ts), defaults filled in; the secret ones are named only.
 */
function typedParameters(sent: Readonly<Record<string, string>>, secret: readonly string[]): { parameters: Record<string, string>; withheld: string[] } {
  const nameOf = (key: string) => (key.startsWith(PARAMETER_PREFIX) ? key.slice(PARAMETER_PREFIX.length) : key);
  const parameters: Record<string, string> = {};
  for (const [key, value] of Object.entries(sent)) {
    const typed = key.startsWith(PARAMETER_PREFIX) ? Buffer.from(value, 'base64').toString('utf8') : value;
    Object.defineProperty(parameters, nameOf(key), { value: typed, enumerable: true, writable: true, configurable: true });
  }
  return { parameters, withheld: secret.map(nameOf).sort() };
}

/**
 * What a record keeps of a run as built (its RunSpec, as chatops hands it to dispatch): the command
 * (a script as its hash and length), the targets as asked, its parameters as typed (defaults
 * included; the secret ones by name), its timeout and limits — and the secret values to redact from
 * it, opened from their seal only for that. When they cannot be opened (no seal key at hand), a
 * non-secret value could repeat one unseen: then every value is withheld, names kept.
 */
function builtRun(spec: RunSpec, sealKey: string | undefined) {
  const { command } = spec;
  const secrets = sealedValuesToRedact(command, sealKey);
  const typed = typedParameters(command.parameters, command.secretParameters);
  const blind = command.secretParameters.length > 0 && secrets.length === 0;
  const kept = blind ? { parameters: {}, withheld: [...Object.keys(typed.parameters), ...typed.withheld].sort() } : typed;
  return {
    fields: {
      command: command.name,
      ...(command.name === 'script' ? { script: auditedScript(command.script) } : {}),
      targets: spec.targets,
      ...kept,
      timeoutSeconds: command.timeoutSeconds,
      ...(spec.maxConcurrency !== undefined ? { maxConcurrency: spec.maxConcurrency } : {}),
      ...(spec.maxErrors !== undefined ? { maxErrors: spec.maxErrors } : {}),
    },
    secrets,
  };
}

/** A built run's secret values, opened (when the seal key is at hand) only to be redacted from its record. */
function sealedValuesToRedact(command: RunSpec['command'], sealKey: string | undefined): string[] {
  if (!command.sealedSecrets || !sealKey) return [];
  try {
    return openSecrets(command.sealedSecrets, command.secretParameters, sealKey).redact;
  } catch {
    // Unopenable here means unopenable for startRun too; builtRun then keeps no value at all.
    return [];
  }
}

/**
 * A run dispatch refused once its targets were resolved (the rule's maxTargets on their real
 * number), from the RunSpec chatops handed over: its non-secret parameters as built (defaults
 * included), the secret ones by name. Their sealed values are opened, when the seal key is at hand, only to be redacted.
 */
export function dispatchRefusalEvent(runId: string, spec: RunSpec, at: Date, policyReason: string, sealKey: string | undefined): AuditEvent {
  const built = builtRun(spec, sealKey);
  return {
    record: {
      ...recordHead({ at, who: spec.requestedBy }),
      kind: 'run',
      runId,
      ...built.fields,
      ...(spec.retryOf !== undefined ? { retryOf: spec.retryOf } : {}),
      outcome: refusedOutcome('NotAllowed', { policyReason, stage: 'dispatch' }),
    },
    secrets: built.secrets,
  };
}

/**
 * A retry (`retry <run>`), started or refused once its RunSpec was built from the run it retries.
 * Its parameters are named only: their values are in the record of the run it retries, and their
 * secret ones stay sealed here — chat never opens them, so it could not redact a value that repeats one.
 */
export function retryRunEvent(spec: RunSpec & { retryOf: string }, ctx: ChatAuditContext, outcome: RunOutcome): AuditEvent {
  const { command } = spec;
  const typed = typedParameters(command.parameters, command.secretParameters);
  return {
    record: {
      ...recordHead(ctx),
      kind: 'run',
      ...runIdOf(outcome),
      command: command.name,
      ...(command.name === 'script' ? { script: auditedScript(command.script) } : {}),
      targets: spec.targets,
      withheld: [...Object.keys(typed.parameters), ...typed.withheld].sort(),
      timeoutSeconds: command.timeoutSeconds,
      ...(spec.maxConcurrency !== undefined ? { maxConcurrency: spec.maxConcurrency } : {}),
      ...(spec.maxErrors !== undefined ? { maxErrors: spec.maxErrors } : {}),
      retryOf: spec.retryOf,
      outcome: runResultOf(outcome),
    },
    secrets: [],
  };
}

/** A stop handed to dispatch. */
export function stopEvent(runId: string, command: string, ctx: ChatAuditContext): AuditEvent {
  return { record: { ...recordHead(ctx), kind: 'stop', runId, command, outcome: { result: 'requested' } }, secrets: [] };
}

/**
 * A refusal of any command but `run` (runEvent): `status`, `stop`, `runs`, `jobs`, or text that is
 * no command (`c` undefined). `command`: the run's, when the run named was found.
 */
export function refusalEvent(c: Exclude<ChatCommand, RunCommand> | undefined, ctx: ChatAuditContext, code: RefusalCode, options: { policyReason?: string; command?: string } = {}): AuditEvent {
  const outcome = refusedOutcome(code, options.policyReason !== undefined ? { policyReason: options.policyReason } : {});
  const base = { ...recordHead(ctx), outcome, ...(options.command !== undefined ? { command: options.command } : {}) };
  if (c === undefined || c.kind === 'help') return { record: { ...base, kind: 'chat' }, secrets: [] };
  if (c.kind === 'approve' || c.kind === 'deny') return { record: { ...base, kind: 'approval', runId: c.runId }, secrets: [] };
  if (c.kind === 'status' || c.kind === 'stop' || c.kind === 'retry') return { record: { ...base, kind: c.kind, runId: c.runId }, secrets: [] };
  return { record: { ...base, kind: c.kind }, secrets: [] };
}

/**
 * A run held for approval (chatops/approvals.ts), from the run as built: what it would do, as a
 * run record keeps it (builtRun: the secret parameters by name, their sealed values opened
 * only to be redacted), who may approve it and until when.
 */
export function approvalRequestedEvent(runId: string, spec: RunSpec, ctx: Pick<ChatAuditContext, 'who' | 'at'>, hold: { approvers: string[]; expiresAt: string }, sealKey: string | undefined): AuditEvent {
  const built = builtRun(spec, sealKey);
  return {
    record: { ...recordHead(ctx), kind: 'approval', runId, ...built.fields, approvers: hold.approvers, expiresAt: hold.expiresAt, outcome: { result: 'requested' } },
    secrets: built.secrets,
  };
}

/** A decision on a run held for approval: its command and the targets it was asked on. */
export function approvalEvent(runId: string, about: { command: string; targets: Targets }, ctx: Pick<ChatAuditContext, 'who' | 'at'>, result: 'approved' | 'denied' | 'expired'): AuditEvent {
  return { record: { ...recordHead(ctx), kind: 'approval', runId, command: about.command, targets: about.targets, outcome: { result } }, secrets: [] };
}
