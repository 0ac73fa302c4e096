/**
 * The built-in `{{ACS::Name}}` parameters the local agent fills in itself, the emulator's own list. Source: the current
 * RunCommand page as summarised in the platform reference §3.1 (the seeds keep only `{{ACS::ScriptFileName|Ext(".py")}}`,
 * in Launcher): RegionId, AccountId, InstanceId, InstanceName, InvokeId and CommandId. The agent matches the names
 * regardless of case and spaces (`{{ ACS :: instanceid }}`); any other `ACS::` name makes the run Invalid.
 * `ScriptFileName` belongs to Launcher only and is not a parameter of the script.
 */
export const BUILT_IN_PARAMETERS = ['RegionId', 'AccountId', 'InstanceId', 'InstanceName', 'InvokeId', 'CommandId'] as const;
export type BuiltInParameter = (typeof BUILT_IN_PARAMETERS)[number];

/** The built-in parameter `name` spells, in its documented spelling, or undefined when there is none. */
export function builtInParameter(name: string): BuiltInParameter | undefined {
  const wanted = name.trim().toLowerCase();
  return BUILT_IN_PARAMETERS.find((b) => b.toLowerCase() === wanted);
}
