import { parseInvokeCommand } from '../requests/invoke-command.ts';
import { checkOutputBucket } from './output-bucket.ts';
import type { Action } from './types.ts';

export const invokeCommand: Action = async (params, ctx) => {
  const { service } = ctx;
  const input = parseInvokeCommand(params, service.unseeded);
  service.checkRegion(input.RegionId);
  await checkOutputBucket(input.OssOutputDelivery, ctx);
  return service.invokeCommand(input);
};
