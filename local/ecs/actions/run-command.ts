import { parseRunCommand } from '../requests/run-command.ts';
import { checkOutputBucket } from './output-bucket.ts';
import type { Action } from './types.ts';

export const runCommand: Action = async (params, ctx) => {
  const { service } = ctx;
  const input = parseRunCommand(params, service.unseeded);
  service.checkRegion(input.RegionId);
  await checkOutputBucket(input.OssOutputDelivery, ctx);
  return service.runCommand(input);
};
