/** StopInvocation: no seed covers it; the InstanceId.N bound is an off-by-default option (SDK model: 50). */
import { EcsApiError } from '../api-error.ts';
import type { UnseededChecks } from './unseeded-checks.ts';
import { instanceIds, optional, readFields, required, wireText } from './wire-values.ts';

const FIELDS = {
  RegionId: required(wireText, 'MissingParameter.RegionId'),
  InvokeId: required(wireText),
  InstanceId: optional(instanceIds),
};

export interface StopInvocationInput {
  RegionId: string;
  InvokeId: string;
  InstanceId?: string[] | undefined;
}

export function parseStopInvocation(params: Record<string, unknown>, unseeded: UnseededChecks): StopInvocationInput {
  const v = readFields(params, FIELDS);
  const max = unseeded.stopInvocationInstances;
  if (max !== undefined && v.InstanceId && v.InstanceId.length > max)
    throw new EcsApiError('InstanceIds.ExceedLimit', `${v.InstanceId.length} instance ids; this local cloud stops at most ${max} per call.`);
  return v;
}
