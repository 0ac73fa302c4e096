import { parseRunCommand } from '../../../shared/cloud-assistant/requests/run-command.ts';
import type { Action } from './types.ts';

export const runCommand: Action = (params, { service }) => {
  const input = parseRunCommand(params);
  service.checkRegion(input.RegionId);
  return service.runCommand(input);
};
