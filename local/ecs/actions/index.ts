import { createCommand } from './create-command.ts';
import { deleteCommand } from './delete-command.ts';
import { describeCloudAssistantStatus } from './describe-cloud-assistant-status.ts';
import { describeCommands } from './describe-commands.ts';
import { describeInstances } from './describe-instances.ts';
import { describeInvocationResults } from './describe-invocation-results.ts';
import { describeInvocations } from './describe-invocations.ts';
import { invokeCommand } from './invoke-command.ts';
import { runCommand } from './run-command.ts';
import { stopInvocation } from './stop-invocation.ts';
import type { Action } from './types.ts';

/** The ECS actions the local Cloud Assistant serves, by their wire name. */
export const ACTIONS: Readonly<Record<string, Action>> = {
  RunCommand: runCommand,
  InvokeCommand: invokeCommand,
  CreateCommand: createCommand,
  DeleteCommand: deleteCommand,
  DescribeCommands: describeCommands,
  DescribeInvocations: describeInvocations,
  DescribeInvocationResults: describeInvocationResults,
  StopInvocation: stopInvocation,
  DescribeInstances: describeInstances,
  DescribeCloudAssistantStatus: describeCloudAssistantStatus,
};

/** Writes that change state; fault injection can fail these after they were applied. */
export const WRITE_ACTIONS = new Set(['RunCommand', 'InvokeCommand', 'CreateCommand', 'DeleteCommand', 'StopInvocation']);
