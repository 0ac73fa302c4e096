/**
 * CreateCommand: save a command to run later with InvokeCommand. Content is Base64 by default here.
 * No seed of its own: the limits are RunCommand's (seed 001), content counted as a kept command.
 */
import { z } from 'zod';
import { LIMITS } from '../constants.ts';
import { contentEncoding, parseApiRequest, tagPair, wireBoolean, wireInteger, type FieldCodes } from './common.ts';
import { checkCommandRequest } from './run-command.ts';

export const createCommandRequestSchema = z
  .object({
    RegionId: z.string().min(1),
    ResourceGroupId: z.string().optional(),
    Name: z.string().min(1),
    Description: z.string().optional(),
    Type: z.string(),
    CommandContent: z.string().min(1),
    ContentEncoding: contentEncoding('Base64'),
    WorkingDir: z.string().optional(),
    Timeout: wireInteger.optional(),
    EnableParameter: wireBoolean.optional(),
    Launcher: z.string().optional(),
    ClientToken: z.string().optional(),
    Tag: z.array(tagPair).optional(),
  })
  .transform((v, ctx) => {
    const checked = checkCommandRequest(v, ctx, { keep: true, instances: 0, resourceTags: 0, targets: false });
    if (!checked) return z.NEVER;
    return { ...v, ...checked };
  });

export type CreateCommandRequest = z.input<typeof createCommandRequestSchema>;
export type CreateCommandInput = z.output<typeof createCommandRequestSchema>;

const CODES: FieldCodes = { missing: { RegionId: 'MissingParameter.RegionId', Type: 'InvalidCmdType.NotFound' } };

export function parseCreateCommand(request: unknown): CreateCommandInput {
  return parseApiRequest(createCommandRequestSchema, request, CODES);
}

export { LIMITS };
