import { readFields, required, wireText } from '../requests/wire-values.ts';
import type { Action } from './types.ts';

const FIELDS = { RegionId: required(wireText, 'MissingParameter.RegionId'), CommandId: required(wireText, 'MissingParameter.CommandId') };

export const deleteCommand: Action = (params, { service }) => {
  const input = readFields(params, FIELDS);
  service.checkRegion(input.RegionId);
  service.deleteCommand(input.CommandId);
  return {};
};
