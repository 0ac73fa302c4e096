import { parseRunCommand } from '../requests/run-command.ts';
import { checkOutputBucket } from './output-bucket.ts';
import type { Action } from './types.ts';

export const runCommand: Action = async (params, { service, outputDelivery }) => {
  const input = parseRunCommand(params, service.unseeded);
  service.checkRegion(input.RegionId);
  await checkOutputBucket(input.OssOutputDelivery, outputDelivery);
  return service.runCommand(input);
};
