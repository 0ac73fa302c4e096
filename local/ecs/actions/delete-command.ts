import { z } from 'zod';
import { parseApiRequest } from '../../../shared/cloud-assistant/requests/common.ts';
import type { Action } from './types.ts';

const schema = z.object({ RegionId: z.string().min(1), CommandId: z.string().min(1) });

export const deleteCommand: Action = (params, { service }) => {
  const input = parseApiRequest(schema, params, { missing: { RegionId: 'MissingParameter.RegionId', CommandId: 'MissingParameter.CommandId' } });
  service.checkRegion(input.RegionId);
  service.deleteCommand(input.CommandId);
  return {};
};
