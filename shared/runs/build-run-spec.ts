/**
 * From what someone asks for (a chat command, a scheduled job) to a {@link RunSpec}: the catalog
 * entry is found, its script and values built (command-script.ts), the secret values sealed once,
 * and the result checked against the schema dispatch and startRun hold it to. Anything that cannot
 * run is a {@link RunSpecError} here, before anyone is told the run started.
 */
import type { Targets } from '../cloud-assistant/targets.ts';
import { findCommand, type Catalog } from '../config/catalog.ts';
import { buildCatalogCommand, buildScriptCommand, RunSpecError, type BuiltCommand } from './command-script.ts';
import type { CountOrPercent } from './count-or-percent.ts';
import { runSpecSchema, type RunCommand, type RunSpec } from './run-spec.ts';
import { sealSecrets } from './sealed-secrets.ts';

/** A request to run a catalog command (or, from chat, a free-form `script`). */
export interface RunAsk {
  /** A catalog command's name; ignored when `script` is given. */
  command: string;
  script?: string | undefined;
  with: Record<string, string>;
  timeoutSeconds?: number | undefined;
  targets: Targets;
  maxConcurrency?: CountOrPercent | undefined;
  maxErrors?: CountOrPercent | undefined;
  requestedBy: RunSpec['requestedBy'];
  replyTo?: RunSpec['replyTo'];
}

/** A built command with its secret values sealed: the form a command travels in. */
export function sealCommand(built: Omit<BuiltCommand, 'secretValues'> & { secretValues?: string[] }, sealKey: string | undefined): RunCommand {
  const secretParameters = built.secretParameters ?? [];
  const all = built.parameters ?? {};
  if (secretParameters.length > 0 && !sealKey) throw new RunSpecError('This command has secret parameters, and no seal key is configured; refusing to send them.', 'no-seal-key');
  return {
    name: built.name,
    type: built.type,
    script: built.script,
    timeoutSeconds: built.timeoutSeconds,
    parameters: Object.fromEntries(Object.entries(all).filter(([n]) => !secretParameters.includes(n))),
    secretParameters,
    ...(secretParameters.length > 0 ? { sealedSecrets: sealSecrets(secretParameters, all, built.secretValues ?? [], sealKey!) } : {}),
    ...(built.workingDir !== undefined ? { workingDir: built.workingDir } : {}),
    ...(built.username !== undefined ? { username: built.username } : {}),
    ...(built.terminationMode !== undefined ? { terminationMode: built.terminationMode } : {}),
    ...(built.group !== undefined ? { group: built.group } : {}),
  };
}

/**
 * The RunSpec for `ask`, or a {@link RunSpecError} saying why there is none: the command is not in
 * the catalog (`unknown-command`), a value does not fit it (`bad-value`), or it has secret
 * parameters and there is no seal key (`no-seal-key`).
 */
export function buildRunSpec(catalog: Catalog, ask: RunAsk, sealKey: string | undefined): RunSpec {
  const overrides = ask.timeoutSeconds !== undefined ? { timeoutSeconds: ask.timeoutSeconds } : {};
  const built = ask.script !== undefined ? buildScriptCommand(ask.script, overrides) : buildCatalogCommand(findCommand(catalog, ask.command), ask.command, ask.with, overrides);
  const parsed = runSpecSchema.safeParse({
    command: sealCommand(built, sealKey),
    targets: ask.targets,
    ...(ask.maxConcurrency !== undefined ? { maxConcurrency: ask.maxConcurrency } : {}),
    ...(ask.maxErrors !== undefined ? { maxErrors: ask.maxErrors } : {}),
    requestedBy: ask.requestedBy,
    ...(ask.replyTo !== undefined ? { replyTo: ask.replyTo } : {}),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RunSpecError(`the run cannot be sent: ${issue.path.join('.') || 'the request'} ${issue.message}`);
  }
  return parsed.data;
}
