/**
 * Turns an invocation into the script an instance runs: custom `{{name}}` parameters are
 * substituted by the service, built-in `{{ACS::Name}}` ones by the agent (reference §3.1).
 */
import { builtInParameter, type BuiltInParameter } from './built-in-parameters.ts';
import type { FleetInstance } from './fleet.ts';
import type { Invocation } from './model.ts';

export class UnknownBuiltInError extends Error {
  override readonly name = 'UnknownBuiltInError';
}

const TEMPLATE = /\{\{\s*([\s\S]*?)\s*\}\}/g;
const BUILT_IN = /^acs\s*::\s*(.+)$/i;

export function renderScript(invocation: Invocation, instance: FleetInstance, env: { regionId: string; accountId: string }): string {
  if (!invocation.command.enableParameter) return invocation.command.script;
  const custom = new Map(Object.entries(invocation.parameters).map(([k, v]) => [k.toLowerCase(), String(v)]));
  const builtIns: Record<BuiltInParameter, string> = {
    RegionId: env.regionId,
    AccountId: env.accountId,
    InstanceId: instance.id,
    InstanceName: instance.name,
    InvokeId: invocation.invokeId,
    CommandId: invocation.command.commandId,
  };
  return invocation.command.script.replace(TEMPLATE, (whole, inner: string) => {
    const builtIn = BUILT_IN.exec(inner);
    if (builtIn) {
      const name = builtIn[1]!.trim();
      const known = builtInParameter(name);
      if (!known) throw new UnknownBuiltInError(`{{ACS::${name}}} is not a built-in parameter`);
      return builtIns[known];
    }
    // Parameters the caller left out stand for the empty string (seed 002).
    return custom.get(inner.toLowerCase()) ?? (/^[A-Za-z0-9_-]+$/.test(inner) ? '' : whole);
  });
}
