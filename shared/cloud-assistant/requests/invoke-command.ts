/**
 * InvokeCommand: run a saved command on instances.
 * Seed 000 (InvokeCommand, the current edition).
 */
import { z } from 'zod';
import { LIMITS, TERMINATION_MODES, type RepeatMode, type TerminationMode } from '../constants.ts';
import { ApiError, OPERATION_HTTP_STATUS } from '../errors.ts';
import {
  checkClientToken, checkContainer, checkContentSize, checkLength, checkOssOutputDelivery, checkParameters,
  checkParametersMatch, checkTags, checkTargets, checkWindowsUser, checkWorkingDir, collectingSink, countingSink, fail, instanceIdList,
  parametersField, parseApiRequest, tagPair, wireBoolean, wireInteger, type FieldCodes,
} from './common.ts';
import { checkSchedule } from './schedule.ts';

export const invokeCommandRequestSchema = z
  .object({
    RegionId: z.string().min(1),
    ResourceGroupId: z.string().optional(),
    CommandId: z.string().min(1),
    RepeatMode: z.string().optional(),
    /** Deprecated: has no effect (seed 000). */
    Timed: wireBoolean.optional(),
    Frequency: z.string().optional(),
    Parameters: parametersField.optional(),
    Username: z.string().optional(),
    WindowsPasswordName: z.string().optional(),
    InstanceId: instanceIdList.optional(),
    ContainerId: z.string().optional(),
    ContainerName: z.string().optional(),
    Timeout: wireInteger.optional(),
    Tag: z.array(tagPair).optional(),
    ClientToken: z.string().optional(),
    // Not in seed 000 but in the SDK's InvokeCommandRequest model (reference §3.2); no count is checked for lack of a seed.
    ResourceTag: z.array(tagPair).optional(),
    WorkingDir: z.string().optional(),
    Launcher: z.string().optional(),
    TerminationMode: z.string().optional(),
    OssOutputDelivery: z.string().optional(),
  })
  .transform((v, zctx) => {
    const ctx = countingSink(zctx);
    checkTargets(v.InstanceId, v.ResourceTag, ctx, { instances: LIMITS.invokeCommandInstances, resourceTags: undefined });
    checkTags(v.Tag, ctx);
    checkContainer(v.ContainerId, v.ContainerName, ctx);
    checkClientToken(v.ClientToken, ctx);
    checkParameters(v.Parameters, ctx);
    checkWorkingDir(v.WorkingDir, ctx);
    const repeatMode = checkSchedule(v.RepeatMode, v.Frequency, v.Timeout, ctx);
    checkLength(v.Username, LIMITS.usernameLength, 'Username.ExceedLimit', 'Username', ctx);
    checkLength(v.WindowsPasswordName, LIMITS.windowsPasswordNameLength, 'WindowsPasswordName.ExceedLimit', 'WindowsPasswordName', ctx);
    checkLength(v.Launcher, LIMITS.launcherBytes, 'InvalidLauncher.LengthLimitExceeded', 'Launcher', ctx, 'bytes');
    if (v.TerminationMode !== undefined && !(TERMINATION_MODES as readonly string[]).includes(v.TerminationMode))
      fail(ctx, 'InvalidTerminationMode.NotFound', `TerminationMode "${v.TerminationMode}" is not Process or ProcessTree.`, ['TerminationMode']);
    checkOssOutputDelivery(v.OssOutputDelivery, ctx);
    if (ctx.count > 0 || !repeatMode) return z.NEVER;
    return { ...v, RepeatMode: repeatMode as RepeatMode, TerminationMode: v.TerminationMode as TerminationMode | undefined };
  });

export type InvokeCommandRequest = z.input<typeof invokeCommandRequestSchema>;
export type InvokeCommandInput = z.output<typeof invokeCommandRequestSchema>;

const CODES: FieldCodes = {
  missing: { RegionId: 'MissingParameter.RegionId', CommandId: 'MissingParameter.CommandId' },
  invalid: { Parameters: 'InvalidParameter.Parameters' },
  // Seed 000 answers ParameterKey.Duplicate, Parameter.NotMatched and WindowsPasswordName.Missed with 403.
  statuses: OPERATION_HTTP_STATUS.InvokeCommand,
};

/** Checks what can be checked without the saved command; throws the API's `ApiError`. */
export function parseInvokeCommand(request: unknown): InvokeCommandInput {
  return parseApiRequest(invokeCommandRequestSchema, request, CODES);
}

/** The parts of a saved command an invocation is checked against. */
export interface SavedCommandShape {
  script: string;
  enableParameter: boolean;
  parameterNames: string[];
  type: string;
}

/**
 * The checks that need the saved command: parameters enabled and matching, the size limit, a
 * Frequency against the Timeout the run will really have (the command's, unless overridden), and a
 * Windows command's user (seed 000: WindowsPasswordName.Missed, 403).
 */
export function checkInvocationOfCommand(
  command: SavedCommandShape & { timeout?: number },
  params: Record<string, unknown> | undefined,
  schedule?: { frequency?: string | undefined; timeoutSeconds?: number | undefined },
  runAs?: { username?: string | undefined; windowsPasswordName?: string | undefined },
): void {
  const sink = collectingSink(OPERATION_HTTP_STATUS.InvokeCommand);
  const hasParams = params !== undefined && Object.keys(params).length > 0;
  if (hasParams && !command.enableParameter)
    throw new ApiError('Parameter.Disabled', 'This command was created with EnableParameter=false, so it takes no Parameters.');
  if (command.enableParameter) checkParametersMatch(command.parameterNames, params, sink);
  checkContentSize(command.script, params, LIMITS.keptContentBytes, sink);
  if (schedule?.frequency?.trim()) checkSchedule(undefined, schedule.frequency, schedule.timeoutSeconds ?? command.timeout ?? LIMITS.defaultTimeoutSeconds, sink);
  if (runAs) checkWindowsUser(command.type, runAs.username, runAs.windowsPasswordName, sink);
  if (sink.first) throw sink.first;
}
