import { parseStopInvocation } from '../../../shared/cloud-assistant/requests/describe.ts';
import type { Action } from './types.ts';

export const stopInvocation: Action = (params, { service }) => {
  const input = parseStopInvocation(params);
  service.checkRegion(input.RegionId);
  service.stopInvocation(input);
  return {};
};
