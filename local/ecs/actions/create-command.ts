import { parseCreateCommand } from '../requests/create-command.ts';
import type { Action } from './types.ts';

export const createCommand: Action = (params, { service }) => {
  const input = parseCreateCommand(params, service.unseeded);
  service.checkRegion(input.RegionId);
  return service.createCommand(input);
};
