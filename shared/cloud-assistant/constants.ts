/**
 * Values and limits of the Cloud Assistant API, each from an API document: seed 000 (InvokeCommand),
 * 001 (RunCommand), 002 (the older RunCommand page) or 004 (DescribeInvocations). Where editions
 * disagree the newest wins. A figure the seeds cut off and Alibaba's current page gives is marked so,
 * and listed in docs/cloud-assistant-coverage.md ("Assumptions not in the seeds"). A limit no API
 * document gives is not here: the library must not refuse what the service might accept.
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
  /** RunCommand ResourceTag.N: 0 to 20 (seed 001). InvokeCommand's seed has no ResourceTag, so no count is checked there. */
  resourceTags: 20,
  /** Tag.N: 1 to 20 (seeds 000, 001, 004). */
  tags: 20,
  /** Tag key ≤ 64 characters, value ≤ 128 (seeds 000, 001, 004). */
  tagKeyLength: 64,
  tagValueLength: 128,
  /** RunCommand Name ≤ 128, Description ≤ 512, WorkingDir ≤ 200 characters (seed 001). */
  nameLength: 128,
  descriptionLength: 512,
  workingDirLength: 200,
  /** Username and WindowsPasswordName ≤ 255 characters (seeds 000, 001). */
  usernameLength: 255,
  windowsPasswordNameLength: 255,
  /** Launcher ≤ 1 KB (seed 001). */
  launcherBytes: 1024,
  /** ClientToken: ASCII, ≤ 64 characters (seed 000). */
  clientTokenLength: 64,
  /**
   * Base64 content + parameters when the command is kept (KeepCommand=true, CreateCommand, InvokeCommand): 18 KB;
   * not kept: 24 KB. Seed 001 has the code (CmdContent.ExceedLimit) but its text with the figures is cut off; the
   * figures are Alibaba's current RunCommand page (seed 002, older, said 16 KB for both).
   */
  keptContentBytes: 18 * 1024,
  unkeptContentBytes: 24 * 1024,
  /** Parameters: 0 to 10 pairs, keys ≤ 64 characters (seed 000). */
  parameterPairs: 10,
  parameterKeyLength: 64,
  /** Distinct {{name}} parameters in a command's content (seed 002). */
  contentParameterNames: 20,
  /** A {{name}} ≤ 64 bytes: Alibaba's current RunCommand page (cut off in seed 001). */
  contentParameterNameBytes: 64,
  /** Timeout default (seed 001). No seed gives a lower or an upper bound, so no request schema checks one. */
  defaultTimeoutSeconds: 60,
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
