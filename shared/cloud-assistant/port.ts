/**
 * The CloudAssistant port: what fleetrun's core asks of ECS Cloud Assistant. One production
 * implementation wraps `@alicloud/ecs20140526` (ecs-cloud-assistant.ts); offline it is pointed at
 * the local emulator, so tests go through the real SDK and the real wire.
 */
import type { CommandType, RepeatMode } from './constants.ts';
import type { CreateCommandRequest } from './requests/create-command.ts';
import type { DescribeInvocationResultsRequest, DescribeInvocationsRequest, StopInvocationRequest } from './requests/describe.ts';
import type { InvokeCommandRequest } from './requests/invoke-command.ts';
import type { RunCommandRequest } from './requests/run-command.ts';
import type { InstanceStatus, OverallStatus } from './statuses.ts';

/** One instance's result of one run (DescribeInvocationResults / DescribeInvocations). */
export interface InstanceResult {
  invokeId: string;
  commandId: string;
  instanceId: string;
  status: InstanceStatus;
  exitCode: number;
  errorCode: string;
  errorInfo: string;
  /** Decoded output: the last 24 KB the service kept. */
  output: string;
  /** Bytes of output the service dropped from the head. */
  dropped: number;
  repeats: number;
  startTime: Date | undefined;
  finishTime: Date | undefined;
  ossOutputUri: string;
  ossOutputStatus: string;
}

export interface InvocationInfo {
  invokeId: string;
  commandId: string;
  commandName: string;
  commandType: CommandType;
  repeatMode: RepeatMode;
  /** As the service reports it. */
  serviceStatus: OverallStatus;
  /** Derived from the per-instance statuses by the reference's rules; equals serviceStatus when both agree. */
  status: OverallStatus;
  creationTime: Date | undefined;
  instances: InstanceResult[];
}

export interface Page<T> {
  items: T[];
  nextToken: string | undefined;
  totalCount: number;
}

export interface InstanceInfo {
  instanceId: string;
  name: string;
  status: string;
  tags: Record<string, string>;
  osType: string;
}

export interface AgentStatus {
  instanceId: string;
  online: boolean;
  version: string;
}

export interface CloudAssistant {
  runCommand(request: RunCommandRequest): Promise<{ commandId: string; invokeId: string }>;
  invokeCommand(request: InvokeCommandRequest): Promise<{ invokeId: string }>;
  createCommand(request: CreateCommandRequest): Promise<{ commandId: string }>;
  describeInvocations(request: DescribeInvocationsRequest): Promise<Page<InvocationInfo>>;
  describeInvocationResults(request: DescribeInvocationResultsRequest): Promise<Page<InstanceResult>>;
  stopInvocation(request: StopInvocationRequest): Promise<void>;
  /** Every instance matching the ids (any number) or the tags, over as many pages as it takes. */
  describeInstances(filter: { instanceIds?: string[]; tags?: Record<string, string> }): Promise<InstanceInfo[]>;
  /** The agent state of the given instances (any number). */
  describeAgentStatus(instanceIds: string[]): Promise<AgentStatus[]>;
}
