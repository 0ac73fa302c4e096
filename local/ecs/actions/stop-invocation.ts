import { parseStopInvocation } from '../requests/stop-invocation.ts';
import type { Action } from './types.ts';

export const stopInvocation: Action = (params, { service }) => {
  const input = parseStopInvocation(params, service.unseeded);
  service.checkRegion(input.RegionId);
  service.stopInvocation(input);
  return {};
};
