/** RunCommand (seed 001, the current edition): make a command and run it in one call. */
import { EcsApiError } from '../api-error.ts';
import {
  checkClientToken, checkContainer, checkLength, checkTags, checkTargets, checkTerminationMode, checkTimeout, checkWindowsUser,
  checkWorkingDir, COMMAND_TYPES, isOneOf, type CommandType, type RepeatMode, type TerminationMode,
} from './checks.ts';
import { checkOssOutputDelivery } from './oss-output-delivery.ts';
import {
  checkContentSize, checkParametersDefined, checkParameterValues, checkPlaceholders, contentEncodingOf, decodeContent, readParameters,
  type ParameterValues,
} from './parameters.ts';
import { checkSchedule } from './schedule.ts';
import type { UnseededChecks } from './unseeded-checks.ts';
import { instanceIds, optional, readFields, required, wireBoolean, wireInteger, wireTags, wireText, type WireTag } from './wire-values.ts';

/** Seed 001's request table, in its order (the order problems are reported in). */
const FIELDS = {
  RegionId: required(wireText, 'MissingParameter.RegionId'),
  ResourceGroupId: optional(wireText),
  Name: optional(wireText),
  Description: optional(wireText),
  Type: required(wireText, 'InvalidCmdType.NotFound', { emptyIsValue: true }),
  CommandContent: required(wireText),
  WorkingDir: optional(wireText),
  Timeout: optional(wireInteger),
  EnableParameter: optional(wireBoolean),
  RepeatMode: optional(wireText),
  /** No effect (seed 001), but still a boolean. */
  Timed: optional(wireBoolean),
  Frequency: optional(wireText),
  Parameters: optional(readParameters),
  KeepCommand: optional(wireBoolean),
  ContentEncoding: optional(wireText),
  Username: optional(wireText),
  WindowsPasswordName: optional(wireText),
  InstanceId: optional(instanceIds),
  Tag: optional(wireTags),
  ContainerId: optional(wireText),
  ContainerName: optional(wireText),
  ClientToken: optional(wireText),
  OssOutputDelivery: optional(wireText),
  ResourceTag: optional(wireTags),
  TerminationMode: optional(wireText),
  Launcher: optional(wireText),
};

/** What a command is made of once checked, whichever call made it. */
export interface CheckedCommand {
  Name?: string | undefined;
  Description?: string | undefined;
  Type: CommandType;
  /** The content decoded from its ContentEncoding, placeholders still in it. */
  Script: string;
  WorkingDir?: string | undefined;
  Timeout: number;
  EnableParameter: boolean;
  ParameterNames: string[];
  Launcher?: string | undefined;
  Tag?: WireTag[] | undefined;
}

export interface RunCommandInput extends CheckedCommand {
  RegionId: string;
  ResourceGroupId?: string | undefined;
  ClientToken?: string | undefined;
  KeepCommand: boolean;
  Parameters?: ParameterValues | undefined;
  RepeatMode: RepeatMode;
  Frequency?: string | undefined;
  Username?: string | undefined;
  WindowsPasswordName?: string | undefined;
  InstanceId?: string[] | undefined;
  ResourceTag?: WireTag[] | undefined;
  ContainerId?: string | undefined;
  ContainerName?: string | undefined;
  OssOutputDelivery?: string | undefined;
  TerminationMode: TerminationMode;
}

/** Content, parameters, size, WorkingDir and Timeout, in the order RunCommand and CreateCommand check them. */
export function checkScript(
  v: { CommandContent: string; ContentEncoding?: string | undefined; EnableParameter?: boolean | undefined; Parameters?: ParameterValues | undefined; WorkingDir?: string | undefined; Timeout?: number | undefined },
  o: { encoding: 'PlainText' | 'Base64'; kept: boolean; unseeded: UnseededChecks },
): { Script: string; ParameterNames: string[] } {
  const script = decodeContent(v.CommandContent, o.encoding);
  const enabled = v.EnableParameter ?? false;
  if (!enabled && v.Parameters && Object.keys(v.Parameters).length > 0)
    throw new EcsApiError('Parameter.Disabled', 'Parameters were given with EnableParameter false.');
  checkParameterValues(v.Parameters);
  let names: string[] = [];
  if (enabled) {
    names = checkPlaceholders(script);
    checkParametersDefined(names, v.Parameters);
  }
  checkContentSize(script, v.Parameters, o.kept);
  checkWorkingDir(v.WorkingDir, o.unseeded);
  checkTimeout(v.Timeout, o.unseeded);
  return { Script: script, ParameterNames: names };
}

export function parseRunCommand(params: Record<string, unknown>, unseeded: UnseededChecks): RunCommandInput {
  const v = readFields(params, FIELDS);
  const kept = v.KeepCommand ?? false;
  if (!isOneOf(COMMAND_TYPES, v.Type)) throw new EcsApiError('InvalidCmdType.NotFound', `Type ${v.Type} is not one of ${COMMAND_TYPES.join(', ')}.`);
  checkTargets(v.InstanceId, v.ResourceTag, 100, 20);
  checkTags(v.Tag);
  checkLength('Name', v.Name, 128, 'CmdName.ExceedLimit');
  checkLength('Description', v.Description, 512, 'CmdDesc.ExceedLimit');
  checkContainer(v.ContainerId, v.ContainerName, unseeded);
  checkClientToken(v.ClientToken);
  const { Script, ParameterNames } = checkScript(v, { encoding: contentEncodingOf(v.ContentEncoding, 'PlainText'), kept, unseeded });
  const timeout = v.Timeout ?? 60; // seed 001: default 60
  const repeatMode = checkSchedule(v.RepeatMode, v.Frequency, timeout);
  checkLength('Username', v.Username, 255, 'Username.ExceedLimit');
  checkLength('WindowsPasswordName', v.WindowsPasswordName, 255, 'WindowsPasswordName.ExceedLimit');
  checkWindowsUser(v.Type, v.Username, v.WindowsPasswordName);
  checkLength('Launcher', v.Launcher, 1024, 'InvalidLauncher.LengthLimitExceeded', 'bytes');
  const termination = v.TerminationMode ?? 'Process';
  checkTerminationMode(termination);
  checkOssOutputDelivery(v.OssOutputDelivery);
  return {
    ...v,
    Type: v.Type,
    KeepCommand: kept,
    Script,
    ParameterNames,
    Timeout: timeout,
    EnableParameter: v.EnableParameter ?? false,
    RepeatMode: repeatMode,
    TerminationMode: termination as TerminationMode,
  };
}
