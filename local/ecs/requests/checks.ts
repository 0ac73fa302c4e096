/**
 * The rules several Cloud Assistant requests share, as the seeds give them (000 InvokeCommand, 001
 * RunCommand, 002 the older RunCommand page for custom parameters, 004 DescribeInvocations). Each check
 * throws the API's own error for the first thing it refuses; an operation runs them in its order.
 * Limits are literals here on purpose: this code owes nothing to the library's constants.
 */
import { EcsApiError, type EcsErrorCode } from '../api-error.ts';
import type { UnseededChecks } from './unseeded-checks.ts';
import type { WireTag } from './wire-values.ts';

/** Seed 001 Type (the value list is cut off there; the three types are the SDK's and seed 002's). */
export const COMMAND_TYPES = ['RunShellScript', 'RunBatScript', 'RunPowerShellScript'] as const;
export type CommandType = (typeof COMMAND_TYPES)[number];
export const REPEAT_MODES = ['Once', 'Period', 'NextRebootOnly', 'EveryReboot', 'DryRun'] as const;
export type RepeatMode = (typeof REPEAT_MODES)[number];
/** Seed 001 TerminationMode. */
export const TERMINATION_MODES = ['Process', 'ProcessTree'] as const;
export type TerminationMode = (typeof TERMINATION_MODES)[number];

export function isOneOf<T extends string>(list: readonly T[], value: string): value is T {
  return (list as readonly string[]).includes(value);
}

/** Tag.N on the task: 0 to 20 pairs (seeds 000, 001, 004); key not empty, ≤64 characters; value ≤128. */
export function checkTags(tags: WireTag[] | undefined): void {
  if (!tags) return;
  if (tags.length > 20) throw new EcsApiError('NumberExceed.Tags', `${tags.length} Tag pairs; at most 20.`);
  const keys = new Set<string>();
  for (const [i, { Key: key, Value: value = '' }] of tags.entries()) {
    if (!key) throw new EcsApiError('MissingParameter.TagKey', `Tag.${i + 1}.Key is empty.`);
    // The seeds cut off the list of forbidden prefixes; aliyun and acs: are Alibaba Cloud's tag rule.
    if (key.length > 64 || /^(aliyun|acs:)/i.test(key)) throw new EcsApiError('InvalidTagKey.Malformed', `Tag.${i + 1}.Key: at most 64 characters, not starting with aliyun or acs:.`);
    if (value.length > 128) throw new EcsApiError('InvalidTagValue.Malformed', `Tag.${i + 1}.Value: at most 128 characters.`);
    if (keys.has(key)) throw new EcsApiError('Duplicate.TagKey', `Tag key ${key} is given twice.`);
    keys.add(key);
  }
}

/** ResourceTag.N (seed 001): up to `max` pairs, key not empty, ≤64; value ≤128; keys unique. */
export function checkResourceTags(tags: WireTag[], max: number | undefined): void {
  if (max !== undefined && tags.length > max) throw new EcsApiError('NumberExceed.ResourceTags', `${tags.length} ResourceTag pairs; at most ${max}.`);
  const keys = new Set<string>();
  for (const [i, { Key: key, Value: value = '' }] of tags.entries()) {
    if (!key) throw new EcsApiError('MissingParameter.ResourceTagKey', `ResourceTag.${i + 1}.Key is empty.`);
    if (key.length > 64) throw new EcsApiError('InvalidResourceTagKey.Malformed', `ResourceTag.${i + 1}.Key: at most 64 characters.`);
    if (value.length > 128) throw new EcsApiError('InvalidResourceTagValue.Malformed', `ResourceTag.${i + 1}.Value: at most 128 characters.`);
    if (keys.has(key)) throw new EcsApiError('Duplicate.ResourceTagKey', `ResourceTag key ${key} is given twice.`);
    keys.add(key);
  }
}

/** InstanceId.N or ResourceTag.N: exactly one of the two (seed 001), ids up to `maxIds`. */
export function checkTargets(ids: string[] | undefined, resourceTags: WireTag[] | undefined, maxIds: number, maxResourceTags: number | undefined): void {
  const byId = (ids?.length ?? 0) > 0;
  const byTag = (resourceTags?.length ?? 0) > 0;
  if (byId && byTag) throw new EcsApiError('InvalidResourceTag.ConflictWithInstanceIds', 'InstanceId and ResourceTag were both given.');
  if (!byId && !byTag) throw new EcsApiError('MissingParam.InstanceId', 'Neither InstanceId.N nor ResourceTag.N was given.');
  if (byId && ids!.length > maxIds) throw new EcsApiError('InstanceIds.ExceedLimit', `${ids!.length} instance ids; this call takes at most ${maxIds}.`);
  if (byTag) checkResourceTags(resourceTags!, maxResourceTags);
}

/** Name, Description, Username, WindowsPasswordName, Launcher: a longest length of their own. */
export function checkLength(field: string, value: string | undefined, max: number, code: EcsErrorCode, unit: 'characters' | 'bytes' = 'characters'): void {
  if (value === undefined) return;
  const size = unit === 'bytes' ? Buffer.byteLength(value) : value.length;
  if (size > max) throw new EcsApiError(code, `${field} is ${size} ${unit}; at most ${max}.`);
}

/** Seed 000: ContainerId is 64 hex digits, optionally behind the runtime's scheme (the scheme list is cut off in the seed). */
const CONTAINER_ID = /^(?:(?:docker|containerd|cri-o):\/\/)?[0-9a-f]{64}$/;
const DOCKER_NAME = /^[0-9A-Za-z][0-9A-Za-z_.-]*$/;
export function checkContainer(id: string | undefined, name: string | undefined, unseeded: UnseededChecks): void {
  if (id && !CONTAINER_ID.test(id)) throw new EcsApiError('InvalidContainerId.Malformed', 'ContainerId is 64 hexadecimal digits, optionally after docker://, containerd:// or cri-o://.');
  if (name && unseeded.dockerContainerNames && !DOCKER_NAME.test(name))
    throw new EcsApiError('InvalidContainerName.Malformed', 'ContainerName must be a Docker container name (a letter or digit, then letters, digits, _ . -).');
}

/** Seed 000: only ASCII, at most 64 characters. An empty token is taken as no token. */
export function checkClientToken(token: string | undefined): void {
  if (token && !/^[\x00-\x7f]{1,64}$/.test(token)) throw new EcsApiError('InvalidClientToken.Malformed', 'ClientToken is at most 64 ASCII characters.');
}

/** Seed 001: WorkingDir at most 200 characters. */
export function checkWorkingDir(dir: string | undefined, unseeded: UnseededChecks): void {
  if (dir === undefined) return;
  if (dir.length > 200) throw new EcsApiError('InvalidParameter.WorkingDir', `WorkingDir is ${dir.length} characters; at most 200.`);
  if (unseeded.workingDirControlCharacters && /[\0\r\n]/.test(dir)) throw new EcsApiError('InvalidParameterCharacter.CommandWorkingDir', 'WorkingDir holds NUL, CR or LF.');
}

/** Timeout: no seed gives a lower or an upper bound, so only the local cloud's options do. */
export function checkTimeout(timeout: number | undefined, unseeded: UnseededChecks): void {
  if (timeout === undefined) return;
  if (unseeded.maxTimeoutSeconds !== undefined && timeout > unseeded.maxTimeoutSeconds)
    throw new EcsApiError('InvalidTimeout.ExceedLimit', `Timeout ${timeout} s is above this local cloud's ${unseeded.maxTimeoutSeconds} s.`);
  if (unseeded.minTimeoutSeconds !== undefined && timeout < unseeded.minTimeoutSeconds)
    throw new EcsApiError('InvalidParameter', `Timeout ${timeout} s is below this local cloud's ${unseeded.minTimeoutSeconds} s.`);
}

/** Seeds 000/001: running a Windows command as anyone but System needs the name of a stored password. */
export function checkWindowsUser(type: string, username: string | undefined, passwordName: string | undefined): void {
  if (type !== 'RunBatScript' && type !== 'RunPowerShellScript') return;
  if (username && username.toLowerCase() !== 'system' && !passwordName)
    throw new EcsApiError('WindowsPasswordName.Missed', `${type} as ${username} needs WindowsPasswordName (only System runs without one).`);
}

export function checkTerminationMode(mode: string | undefined): void {
  if (mode !== undefined && !isOneOf(TERMINATION_MODES, mode)) throw new EcsApiError('InvalidTerminationMode.NotFound', `TerminationMode ${mode} is not Process or ProcessTree.`);
}
