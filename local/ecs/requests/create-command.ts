/** CreateCommand: save a command for InvokeCommand. Its content is Base64 unless ContentEncoding says otherwise. */
import { EcsApiError } from '../api-error.ts';
import { checkClientToken, checkLength, checkTags, COMMAND_TYPES, isOneOf } from './checks.ts';
import { contentEncodingOf } from './parameters.ts';
import { checkScript, type CheckedCommand } from './run-command.ts';
import type { UnseededChecks } from './unseeded-checks.ts';
import { optional, readFields, required, wireBoolean, wireInteger, wireTags, wireText } from './wire-values.ts';

const FIELDS = {
  RegionId: required(wireText, 'MissingParameter.RegionId'),
  ResourceGroupId: optional(wireText),
  Name: required(wireText),
  Description: optional(wireText),
  Type: required(wireText, 'InvalidCmdType.NotFound', { emptyIsValue: true }),
  CommandContent: required(wireText),
  ContentEncoding: optional(wireText),
  WorkingDir: optional(wireText),
  Timeout: optional(wireInteger),
  EnableParameter: optional(wireBoolean),
  Launcher: optional(wireText),
  ClientToken: optional(wireText),
  Tag: optional(wireTags),
};

/** A saved command: what RunCommand checks of a command, with a name of its own. */
export interface CreateCommandInput extends CheckedCommand {
  RegionId: string;
  ResourceGroupId?: string | undefined;
  Name: string;
  ClientToken?: string | undefined;
}

/** The limits are RunCommand's (seed 001), a saved command's content counted against the kept-command size. */
export function parseCreateCommand(params: Record<string, unknown>, unseeded: UnseededChecks): CreateCommandInput {
  const v = readFields(params, FIELDS);
  if (!isOneOf(COMMAND_TYPES, v.Type)) throw new EcsApiError('InvalidCmdType.NotFound', `Type ${v.Type} is not one of ${COMMAND_TYPES.join(', ')}.`);
  checkTags(v.Tag);
  checkLength('Name', v.Name, 128, 'CmdName.ExceedLimit');
  checkLength('Description', v.Description, 512, 'CmdDesc.ExceedLimit');
  checkClientToken(v.ClientToken);
  const { Script, ParameterNames } = checkScript(v, { encoding: contentEncodingOf(v.ContentEncoding, 'Base64'), kept: true, unseeded });
  checkLength('Launcher', v.Launcher, 1024, 'InvalidLauncher.LengthLimitExceeded', 'bytes');
  const { CommandContent: _content, ContentEncoding: _encoding, ...rest } = v;
  return { ...rest, Type: v.Type, Script, ParameterNames, Timeout: v.Timeout ?? 60, EnableParameter: v.EnableParameter ?? false };
}
