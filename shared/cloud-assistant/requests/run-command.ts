/**
 * RunCommand: create a command and run it in one call.
 * Seed 001 (RunCommand, the current edition).
 */
import { z } from 'zod';
import { COMMAND_TYPES, LIMITS, REPEAT_MODES, TERMINATION_MODES } from '../constants.ts';
import {
  checkClientToken, checkContainer, checkContentParameters, checkContentSize, checkLength, checkOssOutputDelivery,
  checkParameters, checkParametersMatch, checkTags, checkTargets, checkWindowsUser, checkWorkingDir,
  contentEncoding, countingSink, decodeContent, fail, instanceIdList, parametersField, parseApiRequest, tagPair, wireBoolean,
  wireInteger, type FieldCodes, type IssueSink,
} from './common.ts';
import { checkSchedule } from './schedule.ts';

const fields = {
  RegionId: z.string().min(1),
  ResourceGroupId: z.string().optional(),
  Name: z.string().optional(),
  Description: z.string().optional(),
  Type: z.string(),
  CommandContent: z.string().min(1),
  WorkingDir: z.string().optional(),
  Timeout: wireInteger.optional(),
  EnableParameter: wireBoolean.optional(),
  RepeatMode: z.string().optional(),
  /** Deprecated: has no effect (seed 001). */
  Timed: wireBoolean.optional(),
  Frequency: z.string().optional(),
  Parameters: parametersField.optional(),
  KeepCommand: wireBoolean.optional(),
  ContentEncoding: contentEncoding('PlainText'),
  Username: z.string().optional(),
  WindowsPasswordName: z.string().optional(),
  InstanceId: instanceIdList.optional(),
  Tag: z.array(tagPair).optional(),
  ContainerId: z.string().optional(),
  ContainerName: z.string().optional(),
  ClientToken: z.string().optional(),
  OssOutputDelivery: z.string().optional(),
  ResourceTag: z.array(tagPair).optional(),
  TerminationMode: z.string().optional(),
  Launcher: z.string().optional(),
};

export const runCommandRequestSchema = z.object(fields).transform((v, ctx) => {
  const checked = checkCommandRequest(v, ctx, { keep: v.KeepCommand ?? false, instances: LIMITS.runCommandInstances, resourceTags: LIMITS.resourceTags });
  if (!checked) return z.NEVER;
  return { ...v, ...checked };
});

/** A RunCommand request: what the caller sends. */
export type RunCommandRequest = z.input<typeof runCommandRequestSchema>;
/** A checked RunCommand request with defaults applied and the content decoded. */
export type RunCommandInput = z.output<typeof runCommandRequestSchema>;

export const RUN_COMMAND_CODES: FieldCodes = {
  missing: { RegionId: 'MissingParameter.RegionId', Type: 'InvalidCmdType.NotFound', CommandContent: 'MissingParameter' },
  // A Parameters value that is neither a map nor its JSON text (seed 000: "Invalid Parameters value").
  invalid: { Parameters: 'InvalidParameter.Parameters' },
};

/** Checks a RunCommand request against every limit of seed 001; throws the API's `ApiError`. */
export function parseRunCommand(request: unknown): RunCommandInput {
  return parseApiRequest(runCommandRequestSchema, request, RUN_COMMAND_CODES);
}

interface CommandFields {
  Type: string;
  CommandContent: string;
  ContentEncoding: 'PlainText' | 'Base64';
  Name?: string | undefined;
  Description?: string | undefined;
  WorkingDir?: string | undefined;
  Timeout?: number | undefined;
  EnableParameter?: boolean | undefined;
  RepeatMode?: string | undefined;
  Frequency?: string | undefined;
  Parameters?: Record<string, unknown> | undefined;
  Username?: string | undefined;
  WindowsPasswordName?: string | undefined;
  InstanceId?: string[] | undefined;
  ResourceTag?: { Key?: string | undefined; Value?: string | undefined }[] | undefined;
  Tag?: { Key?: string | undefined; Value?: string | undefined }[] | undefined;
  ContainerId?: string | undefined;
  ContainerName?: string | undefined;
  ClientToken?: string | undefined;
  OssOutputDelivery?: string | undefined;
  TerminationMode?: string | undefined;
  Launcher?: string | undefined;
}

/** What every checked command request gains: normalised modes and the decoded script. */
export interface CheckedCommand {
  Type: (typeof COMMAND_TYPES)[number];
  Timeout: number;
  EnableParameter: boolean;
  RepeatMode: (typeof REPEAT_MODES)[number];
  TerminationMode: (typeof TERMINATION_MODES)[number];
  /** The script text after decoding ContentEncoding, before any parameter is substituted. */
  Script: string;
  /** The custom `{{name}}` parameters the script defines. */
  ParameterNames: string[];
}

/** Checks shared by RunCommand and (for its content) CreateCommand, in the order the API reports them. */
export function checkCommandRequest(
  v: CommandFields,
  outer: IssueSink,
  opts: { keep: boolean; instances: number; resourceTags: number; targets?: boolean },
): CheckedCommand | undefined {
  const ctx = countingSink(outer);
  if (!(COMMAND_TYPES as readonly string[]).includes(v.Type))
    fail(ctx, 'InvalidCmdType.NotFound', `Type "${v.Type}" is not one of ${COMMAND_TYPES.join(', ')}.`, ['Type']);
  if (opts.targets !== false) checkTargets(v.InstanceId, v.ResourceTag, ctx, { instances: opts.instances, resourceTags: opts.resourceTags });
  checkTags(v.Tag, ctx);
  checkLength(v.Name, LIMITS.nameLength, 'CmdName.ExceedLimit', 'Name', ctx);
  checkLength(v.Description, LIMITS.descriptionLength, 'CmdDesc.ExceedLimit', 'Description', ctx);
  checkContainer(v.ContainerId, v.ContainerName, ctx);
  checkClientToken(v.ClientToken, ctx);
  const script = decodeContent(v.CommandContent, v.ContentEncoding, ctx);
  const enable = v.EnableParameter ?? false;
  const hasParams = v.Parameters !== undefined && Object.keys(v.Parameters).length > 0;
  if (!enable && hasParams)
    fail(ctx, 'Parameter.Disabled', 'Parameters were given but EnableParameter is false; set EnableParameter=true to use {{name}} parameters.', ['Parameters']);
  checkParameters(v.Parameters, ctx);
  let names: string[] = [];
  if (script !== undefined && enable) {
    names = checkContentParameters(script, ctx);
    checkParametersMatch(names, v.Parameters, ctx);
  }
  if (script !== undefined)
    checkContentSize(script, v.Parameters, opts.keep ? LIMITS.keptContentBytes : LIMITS.unkeptContentBytes, ctx);
  checkWorkingDir(v.WorkingDir, ctx);
  // No seed bounds Timeout (seed 001 names InvalidTimeout.ExceedLimit but no figure), so none is checked.
  const timeout = v.Timeout ?? LIMITS.defaultTimeoutSeconds;
  const repeatMode = checkSchedule(v.RepeatMode, v.Frequency, timeout, ctx);
  checkLength(v.Username, LIMITS.usernameLength, 'Username.ExceedLimit', 'Username', ctx);
  checkLength(v.WindowsPasswordName, LIMITS.windowsPasswordNameLength, 'WindowsPasswordName.ExceedLimit', 'WindowsPasswordName', ctx);
  checkWindowsUser(v.Type, v.Username, v.WindowsPasswordName, ctx);
  checkLength(v.Launcher, LIMITS.launcherBytes, 'InvalidLauncher.LengthLimitExceeded', 'Launcher', ctx, 'bytes');
  const termination = v.TerminationMode ?? 'Process';
  if (!(TERMINATION_MODES as readonly string[]).includes(termination))
    fail(ctx, 'InvalidTerminationMode.NotFound', `TerminationMode "${termination}" is not Process or ProcessTree.`, ['TerminationMode']);
  checkOssOutputDelivery(v.OssOutputDelivery, ctx);
  if (ctx.count > 0 || script === undefined || !repeatMode) return undefined;
  return {
    Type: v.Type as CheckedCommand['Type'],
    Timeout: timeout,
    EnableParameter: enable,
    RepeatMode: repeatMode,
    TerminationMode: termination as CheckedCommand['TerminationMode'],
    Script: script,
    ParameterNames: names,
  };
}
