/**
 * InvokeCommand (seed 000, the current edition): run a saved command. What needs the saved command
 * (its parameters, size, Timeout and type) is checked once the service has found it.
 */
import { answeringAs } from '../api-error.ts';
import { checkClientToken, checkContainer, checkLength, checkTags, checkTargets, checkTerminationMode, checkTimeout, checkWindowsUser, checkWorkingDir, type RepeatMode, type TerminationMode } from './checks.ts';
import { checkOssOutputDelivery } from './oss-output-delivery.ts';
import { checkContentSize, checkParametersDefined, checkParameterValues, readParameters, type ParameterValues } from './parameters.ts';
import { checkFrequency, checkSchedule } from './schedule.ts';
import type { UnseededChecks } from './unseeded-checks.ts';
import { instanceIds, optional, readFields, required, wireBoolean, wireInteger, wireTags, wireText, type WireTag } from './wire-values.ts';
import { EcsApiError } from '../api-error.ts';

/** Seed 000's request table in its order, then the fields only the SDK model has (ResourceTag … OssOutputDelivery). */
const FIELDS = {
  RegionId: required(wireText, 'MissingParameter.RegionId'),
  ResourceGroupId: optional(wireText),
  CommandId: required(wireText, 'MissingParameter.CommandId'),
  RepeatMode: optional(wireText),
  Timed: optional(wireBoolean),
  Frequency: optional(wireText),
  Parameters: optional(readParameters),
  Username: optional(wireText),
  WindowsPasswordName: optional(wireText),
  InstanceId: optional(instanceIds),
  ContainerId: optional(wireText),
  ContainerName: optional(wireText),
  Timeout: optional(wireInteger),
  Tag: optional(wireTags),
  ClientToken: optional(wireText),
  ResourceTag: optional(wireTags),
  WorkingDir: optional(wireText),
  Launcher: optional(wireText),
  TerminationMode: optional(wireText),
  OssOutputDelivery: optional(wireText),
};

export interface InvokeCommandInput {
  RegionId: string;
  ResourceGroupId?: string | undefined;
  CommandId: string;
  RepeatMode: RepeatMode;
  Frequency?: string | undefined;
  Parameters?: ParameterValues | undefined;
  Username?: string | undefined;
  WindowsPasswordName?: string | undefined;
  InstanceId?: string[] | undefined;
  ContainerId?: string | undefined;
  ContainerName?: string | undefined;
  Timeout?: number | undefined;
  Tag?: WireTag[] | undefined;
  ClientToken?: string | undefined;
  ResourceTag?: WireTag[] | undefined;
  WorkingDir?: string | undefined;
  Launcher?: string | undefined;
  TerminationMode?: TerminationMode | undefined;
  OssOutputDelivery?: string | undefined;
}

export function parseInvokeCommand(params: Record<string, unknown>, unseeded: UnseededChecks): InvokeCommandInput {
  return answeringAs('InvokeCommand', () => {
    const v = readFields(params, FIELDS);
    checkTargets(v.InstanceId, v.ResourceTag, 50, unseeded.invokeCommandResourceTags);
    checkTags(v.Tag);
    checkContainer(v.ContainerId, v.ContainerName, unseeded);
    checkClientToken(v.ClientToken);
    checkParameterValues(v.Parameters);
    checkWorkingDir(v.WorkingDir, unseeded);
    checkTimeout(v.Timeout, unseeded);
    const repeatMode = checkSchedule(v.RepeatMode, v.Frequency, v.Timeout);
    checkLength('Username', v.Username, 255, 'Username.ExceedLimit');
    checkLength('WindowsPasswordName', v.WindowsPasswordName, 255, 'WindowsPasswordName.ExceedLimit');
    checkLength('Launcher', v.Launcher, 1024, 'InvalidLauncher.LengthLimitExceeded', 'bytes');
    checkTerminationMode(v.TerminationMode);
    checkOssOutputDelivery(v.OssOutputDelivery);
    return { ...v, RepeatMode: repeatMode, TerminationMode: v.TerminationMode as TerminationMode | undefined };
  });
}

/** What of the saved command an invocation is checked against. */
export interface SavedCommandRules {
  type: string;
  script: string;
  enableParameter: boolean;
  parameterNames: string[];
  timeout: number;
}

/**
 * The checks that need the saved command: parameters allowed and defined by it, the kept-command size
 * limit with these parameters, the Frequency against the Timeout the runs will have, and a Windows
 * command's user (seed 000: WindowsPasswordName.Missed, 403).
 */
export function checkInvocationOf(command: SavedCommandRules, input: InvokeCommandInput): void {
  answeringAs('InvokeCommand', () => {
    const given = input.Parameters && Object.keys(input.Parameters).length > 0;
    if (given && !command.enableParameter) throw new EcsApiError('Parameter.Disabled', 'The command was made with EnableParameter false, so it takes no Parameters.');
    if (command.enableParameter) checkParametersDefined(command.parameterNames, input.Parameters);
    checkContentSize(command.script, input.Parameters, true);
    if (input.Frequency?.trim()) checkFrequency(input.Frequency, input.Timeout ?? command.timeout);
    checkWindowsUser(command.type, input.Username, input.WindowsPasswordName);
  });
}
