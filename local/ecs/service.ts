/**
 * The local Cloud Assistant's state and rules: commands, invocations, idempotency by ClientToken,
 * target resolution. Requests arrive decoded from the wire and checked by the emulator's own request
 * schemas (./requests), written from the seeds apart from the library's, so a wrong limit on either side
 * shows as a disagreement between the two.
 */
import { createHash } from 'node:crypto';
import { emptyRun, FleetAgents } from './agent.ts';
import { EcsApiError } from './api-error.ts';
import type { FleetInstance } from './fleet.ts';
import type { InstanceInvocation, Invocation, RunRecord, SavedCommand, Tag } from './model.ts';
import type { CreateCommandInput } from './requests/create-command.ts';
import type { DescribeInvocationResultsInput } from './requests/describe-invocation-results.ts';
import type { DescribeInvocationsInput } from './requests/describe-invocations.ts';
import { checkInvocationOf, type InvokeCommandInput } from './requests/invoke-command.ts';
import type { Paging } from './requests/paging.ts';
import type { RunCommandInput } from './requests/run-command.ts';
import type { StopInvocationInput } from './requests/stop-invocation.ts';
import { NO_UNSEEDED_CHECKS, type UnseededChecks } from './requests/unseeded-checks.ts';
import { parseFrequency } from './recurrence.ts';
import { invokeRecordStatus, overallStatus, legacyInvokeStatus, type InstanceStatus } from './statuses.ts';
import { randomHex } from '../random-hex.ts';

export function newId(prefix: 'c' | 't'): string {
  // Real ids look like c-hz0jdfwcsr**** / t-hz0jdfwd9f****: a region-ish prefix and random base36.
  return `${prefix}-lo${randomHex(12).slice(0, 20)}`;
}

interface Remembered {
  fingerprint: string;
  response: Record<string, string>;
}

export interface ServiceOptions {
  regionId: string;
  /** Whether a target instance that is not Running fails the whole call (seed 000) or only its own record. */
  notRunningInstance: 'reject-call' | 'abort-instance';
  /** Checks no seed gives, each off unless named here (requests/unseeded-checks.ts). */
  unseeded?: UnseededChecks | undefined;
}

export class CloudAssistantService {
  readonly commands = new Map<string, SavedCommand>();
  readonly invocations = new Map<string, Invocation>();
  private readonly tokens = new Map<string, Remembered>();
  /** Writes answered from a remembered ClientToken without applying anything; the server reads it. */
  idempotentReplays = 0;

  constructor(
    readonly fleet: Map<string, FleetInstance>,
    readonly agents: FleetAgents,
    private readonly options: ServiceOptions,
  ) {}

  /** The checks beyond the seeds this local cloud was started with (none by default). */
  get unseeded(): UnseededChecks {
    return this.options.unseeded ?? NO_UNSEEDED_CHECKS;
  }

  /**
   * DescribeInvocations' `Timed` (seed 004: "whether the command is to be automatically run"): a task
   * the service will still start by itself — Period, NextRebootOnly or EveryReboot — that has not been
   * stopped and has instances not yet finished with it.
   */
  timed(invocation: Invocation): boolean {
    if (invocation.repeatMode === 'Once' || invocation.repeatMode === 'DryRun') return false;
    return !invocation.stopRequested && [...invocation.instances.values()].some((r) => !r.finished);
  }

  checkRegion(regionId: string): void {
    if (regionId !== this.options.regionId)
      throw new EcsApiError('InvalidRegionId.NotFound', `This local cloud serves region ${this.options.regionId}, not ${regionId}.`);
  }

  createCommand(input: CreateCommandInput): { CommandId: string } {
    return this.idempotent('CreateCommand', input.ClientToken, input, () => {
      const command = this.saveCommand(input, input.Name, true);
      return { CommandId: command.commandId };
    });
  }

  runCommand(input: RunCommandInput): { CommandId: string; InvokeId: string } {
    return this.idempotent('RunCommand', input.ClientToken, input, () => {
      const targets = this.resolveTargets(input.InstanceId, input.ResourceTag, 100);
      const command = this.saveCommand(input, input.Name ?? '', input.KeepCommand ?? false);
      const invocation = this.invoke(command, targets, {
        parameters: input.Parameters,
        repeatMode: input.RepeatMode,
        frequency: input.Frequency,
        timeout: input.Timeout,
        username: input.Username,
        workingDir: input.WorkingDir,
        containerId: input.ContainerId,
        containerName: input.ContainerName,
        launcher: input.Launcher,
        terminationMode: input.TerminationMode,
        ossOutputDelivery: input.OssOutputDelivery,
        resourceGroupId: input.ResourceGroupId,
        tags: input.Tag,
      });
      return { CommandId: command.commandId, InvokeId: invocation.invokeId };
    });
  }

  invokeCommand(input: InvokeCommandInput): { InvokeId: string } {
    return this.idempotent('InvokeCommand', input.ClientToken, input, () => {
      const command = this.commands.get(input.CommandId);
      if (!command || !command.kept) throw new EcsApiError('InvalidCmdId.NotFound', `No command ${input.CommandId}.`);
      checkInvocationOf(command, input);
      const targets = this.resolveTargets(input.InstanceId, input.ResourceTag, 50);
      const invocation = this.invoke(command, targets, {
        parameters: input.Parameters,
        repeatMode: input.RepeatMode,
        frequency: input.Frequency,
        timeout: input.Timeout ?? command.timeout,
        username: input.Username,
        workingDir: input.WorkingDir ?? command.workingDir,
        containerId: input.ContainerId,
        containerName: input.ContainerName,
        launcher: input.Launcher ?? command.launcher,
        terminationMode: input.TerminationMode ?? 'Process',
        ossOutputDelivery: input.OssOutputDelivery,
        resourceGroupId: input.ResourceGroupId,
        tags: input.Tag,
      });
      command.invokeTimes++;
      return { InvokeId: invocation.invokeId };
    });
  }

  deleteCommand(commandId: string): void {
    const command = this.commands.get(commandId);
    if (!command || !command.kept) throw new EcsApiError('InvalidCmdId.NotFound', `No command ${commandId}.`);
    this.commands.delete(commandId);
  }

  stopInvocation(input: StopInvocationInput): void {
    const invocation = this.invocations.get(input.InvokeId);
    if (!invocation) throw new EcsApiError('InvalidInvokeId.NotFound', `No invocation ${input.InvokeId}.`);
    for (const id of input.InstanceId ?? []) {
      if (!invocation.instances.has(id)) throw new EcsApiError('InvalidInstance.NotFound', `Instance ${id} is not a target of ${input.InvokeId}.`);
    }
    if (!input.InstanceId || input.InstanceId.length === 0) invocation.stopRequested = true;
    this.agents.stop(invocation, input.InstanceId);
  }

  /** Invocations matching a DescribeInvocations request, newest first. */
  findInvocations(input: DescribeInvocationsInput): Invocation[] {
    const list = [...this.invocations.values()].filter((inv) => {
      if (input.InvokeId && inv.invokeId !== input.InvokeId) return false;
      if (input.CommandId && inv.command.commandId !== input.CommandId) return false;
      if (input.CommandName && inv.command.name !== input.CommandName) return false;
      if (input.CommandType && inv.command.type !== input.CommandType) return false;
      if (input.InstanceId && !inv.instances.has(input.InstanceId)) return false;
      if (input.RepeatMode && inv.repeatMode !== input.RepeatMode) return false;
      if (input.ResourceGroupId && inv.resourceGroupId !== input.ResourceGroupId) return false;
      if (input.Timed !== undefined && this.timed(inv) !== input.Timed) return false;
      if (input.InvokeStatus) {
        const overall = this.overall(inv);
        if (input.InvokeStatus !== overall && input.InvokeStatus !== legacyInvokeStatus(overall)) return false;
      }
      return matchesTags(inv.tags, input.Tag);
    });
    return list.reverse();
  }

  /** Per-instance records (or every run, with IncludeHistory) matching a DescribeInvocationResults request. */
  findResults(input: DescribeInvocationResultsInput): { invocation: Invocation; record: InstanceInvocation; run: RunRecord; repeat: number }[] {
    const out: { invocation: Invocation; record: InstanceInvocation; run: RunRecord; repeat: number }[] = [];
    const invocations = input.InvokeId ? [this.invocations.get(input.InvokeId)].filter((i): i is Invocation => !!i) : [...this.invocations.values()].reverse();
    for (const invocation of invocations) {
      if (input.CommandId && invocation.command.commandId !== input.CommandId) continue;
      if (input.ResourceGroupId && invocation.resourceGroupId !== input.ResourceGroupId) continue;
      if (!matchesTags(invocation.tags, input.Tag)) continue;
      for (const record of invocation.instances.values()) {
        if (input.InstanceId && record.instanceId !== input.InstanceId) continue;
        const runs = input.IncludeHistory && record.history.length > 0 ? record.history.map((run, i) => ({ run, repeat: i + 1 })) : [{ run: record.current, repeat: record.repeats }];
        for (const { run, repeat } of runs) {
          if (input.InvokeRecordStatus && !recordStatusMatches(run.status, input.InvokeRecordStatus)) continue;
          out.push({ invocation, record, run, repeat });
        }
      }
    }
    return out;
  }

  overall(invocation: Invocation) {
    return overallStatus([...invocation.instances.values()].map((r) => r.current.status));
  }

  private saveCommand(
    input: { Name?: string | undefined; Description?: string | undefined; Type: SavedCommand['type']; Script: string; WorkingDir?: string | undefined; Timeout: number; EnableParameter: boolean; ParameterNames: string[]; Launcher?: string | undefined; Tag?: { Key?: string | undefined; Value?: string | undefined }[] | undefined },
    name: string,
    kept: boolean,
  ): SavedCommand {
    const command: SavedCommand = {
      commandId: newId('c'),
      name,
      description: input.Description ?? '',
      type: input.Type,
      script: input.Script,
      workingDir: input.WorkingDir ?? '',
      timeout: input.Timeout,
      enableParameter: input.EnableParameter,
      parameterNames: input.ParameterNames,
      launcher: input.Launcher ?? '',
      creationTime: new Date(),
      invokeTimes: 0,
      tags: toTags(input.Tag),
      kept,
    };
    this.commands.set(command.commandId, command);
    return command;
  }

  private invoke(
    command: SavedCommand,
    targets: FleetInstance[],
    o: {
      parameters: Record<string, unknown> | undefined;
      repeatMode: Invocation['repeatMode'];
      frequency: string | undefined;
      timeout: number;
      username: string | undefined;
      workingDir: string | undefined;
      containerId: string | undefined;
      containerName: string | undefined;
      launcher: string | undefined;
      terminationMode: Invocation['terminationMode'];
      ossOutputDelivery: string | undefined;
      resourceGroupId: string | undefined;
      tags: { Key?: string | undefined; Value?: string | undefined }[] | undefined;
    },
  ): Invocation {
    const now = new Date();
    const frequencyText = o.frequency?.trim() ?? '';
    const invocation: Invocation = {
      invokeId: newId('t'),
      command,
      parameters: (o.parameters ?? {}) as Invocation['parameters'],
      repeatMode: o.repeatMode,
      frequency: frequencyText ? parseFrequency(frequencyText, { timeoutSeconds: o.timeout }) : undefined,
      frequencyText,
      timeout: o.timeout,
      username: o.username || 'root',
      workingDir: o.workingDir || command.workingDir,
      containerId: o.containerId ?? '',
      containerName: o.containerName ?? '',
      launcher: o.launcher ?? '',
      terminationMode: o.terminationMode,
      ossOutputDelivery: o.ossOutputDelivery ?? '',
      resourceGroupId: o.resourceGroupId ?? '',
      tags: toTags(o.tags),
      creationTime: now,
      instances: new Map(
        targets.map((t) => [t.id, { instanceId: t.id, current: emptyRun('Pending'), history: [], repeats: 0, creationTime: now, updateTime: now, finished: false }]),
      ),
      stopRequested: false,
    };
    this.invocations.set(invocation.invokeId, invocation);
    this.agents.start(invocation);
    return invocation;
  }

  /** The instances a call targets; an unknown id fails the whole call, as the API does. */
  private resolveTargets(ids: string[] | undefined, resourceTags: { Key?: string | undefined; Value?: string | undefined }[] | undefined, limit: number): FleetInstance[] {
    let targets: FleetInstance[];
    if (ids && ids.length > 0) {
      targets = [...new Set(ids)].map((id) => {
        const instance = this.fleet.get(id);
        if (!instance) throw new EcsApiError('InvalidInstance.NotFound', `Instance ${id} does not exist.`);
        return instance;
      });
    } else {
      const wanted = toTags(resourceTags);
      targets = [...this.fleet.values()].filter((i) => wanted.every((t) => i.tags[t.key] === t.value || (t.value === '' && t.key in i.tags)));
      if (targets.length === 0) throw new EcsApiError('InvalidResourceTag.InstanceNotFound', `No instance has the tags ${wanted.map((t) => `${t.key}=${t.value}`).join(', ')}.`);
      if (targets.length > limit) throw new EcsApiError('InstanceIds.ExceedLimit', `The tags select ${targets.length} instances; one call takes at most ${limit}.`);
    }
    if (this.options.notRunningInstance === 'reject-call') {
      const down = targets.find((t) => t.status !== 'Running');
      if (down) throw new EcsApiError('InvalidInstance.NotMatch', `Instance ${down.id} is ${down.status}; commands run only on Running instances.`);
    }
    return targets;
  }

  /**
   * A write retried with the same ClientToken returns the first answer and runs nothing again; the
   * same token with different parameters is refused (seed 000: IdempotentParameterMismatch).
   */
  private idempotent<T extends Record<string, string>>(action: string, token: string | undefined, input: unknown, run: () => T): T {
    if (!token) return run();
    const fingerprint = createHash('sha256').update(action).update(stableJson(input, 'ClientToken')).digest('hex');
    const remembered = this.tokens.get(`${action}\0${token}`);
    if (remembered) {
      if (remembered.fingerprint !== fingerprint) throw new EcsApiError('IdempotentParameterMismatch', `ClientToken ${token} was used with other parameters.`);
      this.idempotentReplays++;
      return remembered.response as T;
    }
    const response = run();
    this.tokens.set(`${action}\0${token}`, { fingerprint, response });
    return response;
  }
}

function toTags(tags: { Key?: string | undefined; Value?: string | undefined }[] | undefined): Tag[] {
  return (tags ?? []).map((t) => ({ key: t.Key ?? '', value: t.Value ?? '' }));
}

function matchesTags(have: Tag[], wanted: { Key?: string | undefined; Value?: string | undefined }[] | undefined): boolean {
  return (wanted ?? []).every((w) => have.some((h) => h.key === w.Key && (w.Value === undefined || h.value === w.Value)));
}

/**
 * The InvokeRecordStatus filter selects the records that show that InvokeRecordStatus (so
 * `Finished` also finds a run that exited non-zero, and `Failed` a timeout); the per-instance
 * InvocationStatus values (`Success`, `Failed`, …) that newer callers send are matched as well.
 */
function recordStatusMatches(status: InstanceStatus, filter: string): boolean {
  return filter === invokeRecordStatus(status) || filter === status;
}

function stableJson(value: unknown, omit: string): string {
  return JSON.stringify(value, (k, v: unknown) => {
    if (k === omit) return undefined;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)));
    }
    return v;
  });
}

/** The paging method a request chose: MaxResults/NextToken win over PageNumber/PageSize (seed 004). */
export function pagingOf(input: { MaxResults?: number | undefined; NextToken?: string | undefined; PageNumber?: number | undefined; PageSize?: number | undefined }, maxPageSize: number): Paging {
  if (input.MaxResults !== undefined || input.NextToken) return { method: 'token', maxResults: input.MaxResults ?? 10, nextToken: input.NextToken || undefined };
  return { method: 'page', pageNumber: input.PageNumber ?? 1, pageSize: Math.min(input.PageSize ?? 10, maxPageSize) };
}

/** Slices a list for either paging method; an unknown NextToken is the API's error. */
export function page<T>(items: T[], paging: Paging): { items: T[]; nextToken: string; pageNumber: number; pageSize: number; totalCount: number } {
  if (paging.method === 'page') {
    const start = (paging.pageNumber - 1) * paging.pageSize;
    return { items: items.slice(start, start + paging.pageSize), nextToken: '', pageNumber: paging.pageNumber, pageSize: paging.pageSize, totalCount: items.length };
  }
  let offset = 0;
  if (paging.nextToken) {
    const decoded = /^o(\d+)$/.exec(Buffer.from(paging.nextToken, 'base64url').toString('utf8'));
    if (!decoded) throw new EcsApiError('InvalidParameter.NextToken', 'NextToken is not one this service returned.');
    offset = Number(decoded[1]);
  }
  const slice = items.slice(offset, offset + paging.maxResults);
  const next = offset + paging.maxResults < items.length ? Buffer.from(`o${offset + paging.maxResults}`).toString('base64url') : '';
  return { items: slice, nextToken: next, pageNumber: 1, pageSize: paging.maxResults, totalCount: items.length };
}
