/**
 * The CloudAssistant port on the official `@alicloud/ecs20140526` SDK. Every request is checked by
 * the API's own rules before it is sent; every write gets a ClientToken that stays the same across
 * retries, so a retried call never runs a command twice.
 */
import { randomUUID } from 'node:crypto';
import { createEcsClient, type EcsClient, type EcsClientConfig, type EcsSdk } from './ecs-sdk.ts';
import type { AgentStatus, CloudAssistant, InstanceInfo, InstanceResult, InvocationInfo, Page } from './port.ts';
import { parseCreateCommand, type CreateCommandRequest } from './requests/create-command.ts';
import {
  parseDescribeInvocationResults, parseDescribeInvocations, parseStopInvocation,
  type DescribeInvocationResultsRequest, type DescribeInvocationsRequest, type StopInvocationRequest,
} from './requests/describe.ts';
import { parseInvokeCommand, type InvokeCommandRequest } from './requests/invoke-command.ts';
import { parseRunCommand, type RunCommandRequest } from './requests/run-command.ts';
import { DEFAULT_RETRY_POLICY, withRetry, type RetryPolicy } from './retry.ts';
import { overallStatus, type InstanceStatus, type OverallStatus } from './statuses.ts';
import type { CommandType, RepeatMode } from './constants.ts';

/** API parameter names → the SDK model's property names (`InstanceId` → `instanceId`, tags' `Key` → `key`). */
function toSdkFields(request: Record<string, unknown>, keep: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of keep) {
    const value = request[name];
    if (value === undefined) continue;
    const sdkName = name[0]!.toLowerCase() + name.slice(1);
    out[sdkName] = Array.isArray(value)
      ? value.map((v: unknown) => (v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k[0]!.toLowerCase() + k.slice(1), x])) : v))
      : value;
  }
  return out;
}

const RUN_COMMAND_FIELDS = [
  'RegionId', 'ResourceGroupId', 'Name', 'Description', 'Type', 'CommandContent', 'WorkingDir', 'Timeout', 'EnableParameter',
  'RepeatMode', 'Frequency', 'Parameters', 'KeepCommand', 'ContentEncoding', 'Username', 'WindowsPasswordName', 'InstanceId', 'Tag',
  'ContainerId', 'ContainerName', 'ClientToken', 'OssOutputDelivery', 'ResourceTag', 'TerminationMode', 'Launcher',
] as const;
const INVOKE_COMMAND_FIELDS = [
  'RegionId', 'ResourceGroupId', 'CommandId', 'RepeatMode', 'Frequency', 'Parameters', 'Username', 'WindowsPasswordName', 'InstanceId',
  'ContainerId', 'ContainerName', 'Timeout', 'Tag', 'ClientToken', 'ResourceTag', 'WorkingDir', 'Launcher', 'TerminationMode', 'OssOutputDelivery',
] as const;
const CREATE_COMMAND_FIELDS = [
  'RegionId', 'ResourceGroupId', 'Name', 'Description', 'Type', 'CommandContent', 'ContentEncoding', 'WorkingDir', 'Timeout',
  'EnableParameter', 'Launcher', 'ClientToken', 'Tag',
] as const;

function date(text: string | undefined): Date | undefined {
  return text ? new Date(text) : undefined;
}

function decode(text: string | undefined, encoding: 'PlainText' | 'Base64'): string {
  if (!text) return '';
  return encoding === 'Base64' ? Buffer.from(text, 'base64').toString('utf8') : text;
}

/** The per-instance fields DescribeInvocations and DescribeInvocationResults share (end time named apart). */
interface InstanceFields {
  invokeId?: string | undefined;
  commandId?: string | undefined;
  instanceId?: string | undefined;
  invocationStatus?: string | undefined;
  exitCode?: number | undefined;
  errorCode?: string | undefined;
  errorInfo?: string | undefined;
  output?: string | undefined;
  dropped?: number | undefined;
  repeats?: number | undefined;
  startTime?: string | undefined;
  finishTime?: string | undefined;
  ossOutputUri?: string | undefined;
  ossOutputStatus?: string | undefined;
}

function toInstanceResult(r: InstanceFields, encoding: 'PlainText' | 'Base64'): InstanceResult {
  return {
    invokeId: r.invokeId ?? '',
    commandId: r.commandId ?? '',
    instanceId: r.instanceId ?? '',
    status: (r.invocationStatus ?? 'Pending') as InstanceStatus,
    exitCode: r.exitCode ?? 0,
    errorCode: r.errorCode ?? '',
    errorInfo: r.errorInfo ?? '',
    output: decode(r.output, encoding),
    dropped: r.dropped ?? 0,
    repeats: r.repeats ?? 0,
    startTime: date(r.startTime),
    finishTime: date(r.finishTime),
    ossOutputUri: r.ossOutputUri ?? '',
    ossOutputStatus: r.ossOutputStatus ?? '',
  };
}

export interface EcsCloudAssistantOptions extends EcsClientConfig {
  retry?: Partial<RetryPolicy>;
}

export class EcsCloudAssistant implements CloudAssistant {
  private readonly retry: RetryPolicy;
  private readonly regionId: string;

  private constructor(
    private readonly client: EcsClient,
    private readonly sdk: EcsSdk,
    options: EcsCloudAssistantOptions,
  ) {
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.regionId = options.regionId;
  }

  static async create(options: EcsCloudAssistantOptions): Promise<EcsCloudAssistant> {
    const { client, sdk } = await createEcsClient(options);
    return new EcsCloudAssistant(client, sdk, options);
  }

  private call<T>(action: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(action, fn, this.retry);
  }

  async runCommand(request: RunCommandRequest): Promise<{ commandId: string; invokeId: string }> {
    // The token is fixed before the first attempt, so every retry of this call carries the same one.
    const input = parseRunCommand({ ...request, ClientToken: request.ClientToken ?? randomUUID() });
    const model = new this.sdk.RunCommandRequest(toSdkFields(input, RUN_COMMAND_FIELDS));
    const res = await this.call('RunCommand', () => this.client.runCommand(model));
    return { commandId: res.body?.commandId ?? '', invokeId: res.body?.invokeId ?? '' };
  }

  async invokeCommand(request: InvokeCommandRequest): Promise<{ invokeId: string }> {
    const input = parseInvokeCommand({ ...request, ClientToken: request.ClientToken ?? randomUUID() });
    const model = new this.sdk.InvokeCommandRequest(toSdkFields(input, INVOKE_COMMAND_FIELDS));
    const res = await this.call('InvokeCommand', () => this.client.invokeCommand(model));
    return { invokeId: res.body?.invokeId ?? '' };
  }

  async createCommand(request: CreateCommandRequest): Promise<{ commandId: string }> {
    const input = parseCreateCommand({ ...request, ClientToken: request.ClientToken ?? randomUUID() });
    const model = new this.sdk.CreateCommandRequest(toSdkFields(input, CREATE_COMMAND_FIELDS));
    const res = await this.call('CreateCommand', () => this.client.createCommand(model));
    return { commandId: res.body?.commandId ?? '' };
  }

  async stopInvocation(request: StopInvocationRequest): Promise<void> {
    const input = parseStopInvocation(request);
    const model = new this.sdk.StopInvocationRequest(toSdkFields(input, ['RegionId', 'InvokeId', 'InstanceId']));
    await this.call('StopInvocation', () => this.client.stopInvocation(model));
  }

  async describeInvocations(request: DescribeInvocationsRequest): Promise<Page<InvocationInfo>> {
    const input = parseDescribeInvocations(request);
    const model = new this.sdk.DescribeInvocationsRequest(
      toSdkFields({ ...input, ContentEncoding: input.ContentEncoding }, [
        'RegionId', 'ResourceGroupId', 'InvokeId', 'CommandId', 'CommandName', 'CommandType', 'Timed', 'InvokeStatus', 'InstanceId',
        'ContentEncoding', 'IncludeOutput', 'RepeatMode', 'Tag', 'PageNumber', 'PageSize', 'MaxResults', 'NextToken',
      ]),
    );
    const res = await this.call('DescribeInvocations', () => this.client.describeInvocations(model));
    const body = res.body;
    const items = (body?.invocations?.invocation ?? []).map((inv): InvocationInfo => {
      const instances = (inv.invokeInstances?.invokeInstance ?? []).map((r) =>
        toInstanceResult({ ...r, invokeId: inv.invokeId, commandId: inv.commandId, finishTime: r.finishTime }, input.ContentEncoding),
      );
      return {
        invokeId: inv.invokeId ?? '',
        commandId: inv.commandId ?? '',
        commandName: inv.commandName ?? '',
        commandType: (inv.commandType ?? 'RunShellScript') as CommandType,
        repeatMode: (inv.repeatMode ?? 'Once') as RepeatMode,
        serviceStatus: (inv.invocationStatus ?? 'Pending') as OverallStatus,
        status: overallStatus(instances.map((i) => i.status)),
        creationTime: date(inv.creationTime),
        instances,
      };
    });
    return { items, nextToken: body?.nextToken || undefined, totalCount: body?.totalCount ?? items.length };
  }

  async describeInvocationResults(request: DescribeInvocationResultsRequest): Promise<Page<InstanceResult>> {
    const input = parseDescribeInvocationResults(request);
    const model = new this.sdk.DescribeInvocationResultsRequest(
      toSdkFields(input, [
        'RegionId', 'ResourceGroupId', 'InvokeId', 'InstanceId', 'CommandId', 'InvokeRecordStatus', 'IncludeHistory', 'ContentEncoding',
        'Tag', 'PageNumber', 'PageSize', 'MaxResults', 'NextToken',
      ]),
    );
    const res = await this.call('DescribeInvocationResults', () => this.client.describeInvocationResults(model));
    const page = res.body?.invocation;
    const items = (page?.invocationResults?.invocationResult ?? []).map((r) => toInstanceResult({ ...r, finishTime: r.finishedTime }, input.ContentEncoding));
    return { items, nextToken: page?.nextToken || undefined, totalCount: page?.totalCount ?? items.length };
  }

  async describeInstances(filter: { instanceIds?: string[]; tags?: Record<string, string> }): Promise<InstanceInfo[]> {
    const out: InstanceInfo[] = [];
    const tag = Object.entries(filter.tags ?? {}).map(([key, value]) => ({ key, value }));
    // DescribeInstances takes at most 100 ids per call (reference §3.9).
    const idChunks = filter.instanceIds ? chunk([...new Set(filter.instanceIds)], 100) : [undefined];
    for (const ids of idChunks) {
      let nextToken: string | undefined;
      do {
        const model = new this.sdk.DescribeInstancesRequest({
          regionId: this.regionId,
          ...(ids ? { instanceIds: JSON.stringify(ids) } : {}),
          ...(tag.length ? { tag } : {}),
          maxResults: 100,
          ...(nextToken ? { nextToken } : {}),
        });
        const res = await this.call('DescribeInstances', () => this.client.describeInstances(model));
        for (const i of res.body?.instances?.instance ?? []) {
          out.push({
            instanceId: i.instanceId ?? '',
            name: i.instanceName ?? '',
            status: i.status ?? '',
            osType: i.OSType ?? '',
            tags: Object.fromEntries((i.tags?.tag ?? []).map((t) => [t.tagKey ?? '', t.tagValue ?? ''])),
          });
        }
        nextToken = res.body?.nextToken || undefined;
      } while (nextToken);
    }
    return out;
  }

  async describeAgentStatus(instanceIds: string[]): Promise<AgentStatus[]> {
    const out: AgentStatus[] = [];
    // Old editions allow 50 ids per call and the newer 100; 50 works on both.
    for (const ids of chunk([...new Set(instanceIds)], 50)) {
      let nextToken: string | undefined;
      do {
        const model = new this.sdk.DescribeCloudAssistantStatusRequest({ regionId: this.regionId, instanceId: ids, maxResults: 50, ...(nextToken ? { nextToken } : {}) });
        const res = await this.call('DescribeCloudAssistantStatus', () => this.client.describeCloudAssistantStatus(model));
        for (const s of res.body?.instanceCloudAssistantStatusSet?.instanceCloudAssistantStatus ?? []) {
          out.push({ instanceId: s.instanceId ?? '', online: String(s.cloudAssistantStatus) === 'true', version: s.cloudAssistantVersion ?? '' });
        }
        nextToken = res.body?.nextToken || undefined;
      } while (nextToken);
    }
    return out;
  }
}

export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

