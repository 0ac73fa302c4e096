/**
 * Values and limits of the Cloud Assistant API. Where editions of the API documents disagree the
 * newest wins (seeds 000, 001 and 004 are current; 002 and 003 are older).
 * @see ../shared/seeds/README.md
 */

export const COMMAND_TYPES = ['RunShellScript', 'RunBatScript', 'RunPowerShellScript'] as const;
export type CommandType = (typeof COMMAND_TYPES)[number];

export const REPEAT_MODES = ['Once', 'Period', 'NextRebootOnly', 'EveryReboot', 'DryRun'] as const;
export type RepeatMode = (typeof REPEAT_MODES)[number];

export const TERMINATION_MODES = ['Process', 'ProcessTree'] as const;
export type TerminationMode = (typeof TERMINATION_MODES)[number];

export const CONTENT_ENCODINGS = ['PlainText', 'Base64'] as const;
export type ContentEncoding = (typeof CONTENT_ENCODINGS)[number];

export const LIMITS = {
  /** RunCommand InstanceId.N: 1 to 100 (seed 001; the older seed 002 said 50). */
  runCommandInstances: 100,
  /** InvokeCommand InstanceId.N: 1 to 50 (seed 000, the current InvokeCommand edition). */
  invokeCommandInstances: 50,
  /** StopInvocation InstanceId.N: 1 to 50 (reference §3.7). */
  stopInvocationInstances: 50,
  resourceTags: 20,
  /** InvokeCommand ResourceTag.N: 1 to 10 (SDK model, reference §3.2). */
  invokeCommandResourceTags: 10,
  tags: 20,
  tagKeyLength: 64,
  tagValueLength: 128,
  nameLength: 128,
  descriptionLength: 512,
  workingDirLength: 200,
  usernameLength: 255,
  windowsPasswordNameLength: 255,
  launcherBytes: 1024,
  clientTokenLength: 64,
  /** Base64 content + parameters when the command is kept (KeepCommand=true, CreateCommand, InvokeCommand): 18 KB (seed 001). */
  keptContentBytes: 18 * 1024,
  /** Base64 content + parameters when the command is not kept: 24 KB (seed 001). */
  unkeptContentBytes: 24 * 1024,
  parameterPairs: 10,
  parameterKeyLength: 64,
  /** Distinct {{name}} parameters in a command's content (seed 002). */
  contentParameterNames: 20,
  contentParameterNameBytes: 64,
  defaultTimeoutSeconds: 60,
  /** InvokeCommand: "must be at least 10 s" (reference §3.2); applied to every command. */
  minTimeoutSeconds: 10,
  /** Not documented (reference open point 6): the commonly quoted 86400. */
  maxTimeoutSeconds: 86_400,
  /** DescribeInvocations / DescribeInvocationResults MaxResults and PageSize: 1 to 50 (seed 004). */
  pageSize: 50,
  defaultPageSize: 10,
} as const;

/** Built-in parameters an agent fills in (reference §3.1); anything else under `ACS::` is invalid on the instance. */
export const BUILT_IN_PARAMETERS = [
  'RegionId',
  'AccountId',
  'InstanceId',
  'InstanceName',
  'InvokeId',
  'CommandId',
] as const;
export type BuiltInParameter = (typeof BUILT_IN_PARAMETERS)[number];
