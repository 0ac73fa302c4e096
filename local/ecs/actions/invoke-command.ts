import { parseInvokeCommand } from '../../../shared/cloud-assistant/requests/invoke-command.ts';
import type { Action } from './types.ts';

export const invokeCommand: Action = (params, { service }) => {
  const input = parseInvokeCommand(params);
  service.checkRegion(input.RegionId);
  return service.invokeCommand(input);
};
