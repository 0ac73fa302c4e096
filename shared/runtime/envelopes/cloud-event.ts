/**
 * The CloudEvents 1.0 envelope Alibaba EventBridge puts around every event it hands a function,
 * whether from a rule on the default bus (one event per invocation) or from event streaming (an
 * array of them). Only what a consumer reads is checked; every field is kept, because the platform
 * adds fields (`aliyunpublishtime`, `aliyuneventbusname`, `datacontenttype`, …) and may add more.
 * @see docs/platform-facts.md §1.2, §5.5, §5.6
 */
import { z } from 'zod';

export const cloudEventSchema = z.looseObject({
  id: z.string().min(1),
  source: z.string(),
  specversion: z.string().optional(),
  type: z.string(),
  subject: z.string().optional(),
  time: z.string().optional(),
  aliyunaccountid: z.string().optional(),
  aliyunregionid: z.string().optional(),
  data: z.unknown(),
});

/** A CloudEvent whose `data` was checked against its own schema (`unknown & D` is D). */
export type CloudEvent<D> = z.output<typeof cloudEventSchema> & { data: D };
