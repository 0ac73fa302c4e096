/**
 * Alibaba Cloud's unit prices the cost model uses: China mainland, pay-as-you-go, CNY, each with
 * where it was read and when. Every figure is either `published` (read on the page named), or an
 * `assumption` with the reason — a price the stored copies of the pages did not show in CNY, or a
 * rule no page states. The model never uses a number that is not here.
 *
 * Read on 2026-12-02 from the stored copies of the pages (the dates in `pageUpdated` are the
 * pages' own "last updated" where they show one).
 */
import { z } from 'zod';

const READ = '2026-12-02';

const priceSchema = z.object({
  /** What one unit is. */
  unit: z.string().min(1),
  /** CNY per `per` units. */
  cny: z.number().nonnegative(),
  per: z.number().positive(),
  status: z.enum(['published', 'assumption']),
  source: z.string().url(),
  read: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  pageUpdated: z.string().optional(),
  note: z.string().min(1),
});
export type Price = z.output<typeof priceSchema>;

const factorSchema = z.object({
  value: z.number().nonnegative(),
  status: z.enum(['published', 'assumption']),
  source: z.string().url(),
  read: z.string(),
  note: z.string().min(1),
});
export type Factor = z.output<typeof factorSchema>;

export const pricesSchema = z.object({
  fc: z.object({
    /** FC 3.0 bills everything as CU: resource usage × conversion factor = CU; CU × unit price = CNY. */
    cu: priceSchema,
    cuPerInvocation: factorSchema,
    cuPerActiveVcpuSecond: factorSchema,
    cuPerIdleVcpuSecond: factorSchema,
    cuPerMemoryGbSecond: factorSchema,
    /** CNY a CPU function pays at least in an hour in which it was called. */
    hourlyMinimumCny: factorSchema,
    /** Seconds an instance FC started for a request is kept (billed as idle) after its last request. */
    keepAliveSeconds: factorSchema,
    /** vCPU the deployment tool gives a function that states no cpu (by memory size, MB). */
    defaultVcpu: factorSchema,
  }),
  eventBridge: z.object({
    systemBusEvent: priceSchema,
    pushToAlibabaCloudTarget: priceSchema,
    eventStreamEvent: priceSchema,
  }),
  mns: z.object({ request: priceSchema }),
  oss: z.object({ put: priceSchema, get: priceSchema }),
  ecs: z.object({
    cloudAssistantCall: priceSchema,
    /** Requests per second an account may make of one ECS API; undefined: not published. */
    rateLimitPerSecond: z.object({ value: z.number().positive().optional(), source: z.string().url(), read: z.string(), note: z.string() }),
  }),
  /** What the prices leave out on purpose, said once. */
  notApplied: z.array(z.string()),
});
export type Prices = z.output<typeof pricesSchema>;

const FC_BILLING = 'https://help.aliyun.com/zh/functioncompute/fc-3-0/product-overview/billing-overview-of-fc';
const FC_FACTORS = 'https://alibabacloud.com/help/zh/functioncompute/fc-2-0/product-overview/pay-as-you-go-billing-method';
const FC_CHANGE = 'https://help.aliyun.com/zh/functioncompute/fc/product-overview/product-change-description-on-optimizing-function-billing-mode';
const EB_BUS = 'https://www.alibabacloud.com/help/en/eventbridge/product-overview/billing-of-event-buses';
const EB_STREAM = 'https://www.alibabacloud.com/help/en/eventbridge/product-overview/billing-of-event-streams';
const MNS = 'https://help.aliyun.com/en/mns/product-overview/billing-overview';
const MNS_LEGACY = 'https://wohugb.gitbooks.io/aliyun/content/mns/price-summary.html';
const OSS_RULES = 'https://www.alibabacloud.com/help/en/oss/api-operation-calling-fees';
const ECS_THROTTLING = 'https://www.alibabacloud.com/help/doc-detail/437902.htm';

/** USD → CNY for the one price found only in USD; an assumption, stated where it is used. */
export const USD_TO_CNY = 7.1;

export const PRICES: Prices = pricesSchema.parse({
  fc: {
    cu: {
      unit: 'CU',
      cny: 0.00011,
      per: 1,
      status: 'published',
      source: FC_BILLING,
      read: READ,
      note: 'Tier 1, (0, 200 million] CU a month. The discounted 0.000088 CNY/CU ran 2024-08-27 to 2026-08-27 and has ended; the list price applies. A function\'s CU in each hourly billing period is rounded up to a whole CU.',
    },
    cuPerInvocation: { value: 75 / 10_000, status: 'published', source: FC_FACTORS, read: READ, note: '75 CU per 10,000 invocations.' },
    cuPerActiveVcpuSecond: { value: 1, status: 'published', source: FC_FACTORS, read: READ, note: 'Active vCPU: a request is executing, whatever the CPU does (a waiting function is active).' },
    cuPerIdleVcpuSecond: { value: 0, status: 'published', source: FC_FACTORS, read: READ, note: 'Idle vCPU on CPU instances.' },
    cuPerMemoryGbSecond: {
      value: 0.15,
      status: 'published',
      source: FC_FACTORS,
      read: READ,
      note: 'Memory, active or idle. Disk (0.05 CU/GB·s) is not modelled: every fleetrun function has the default 512 MB disk, assumed not billed (unconfirmed).',
    },
    hourlyMinimumCny: {
      value: 0.01,
      status: 'published',
      source: FC_CHANGE,
      read: READ,
      note: 'From 2025-12-09 (released gradually): a CPU function called in an hour pays at least 0.01 CNY for that hour.',
    },
    keepAliveSeconds: {
      value: 60,
      status: 'published',
      source: FC_CHANGE,
      read: READ,
      note: 'From 2025-12-09: an instance started for requests is released 1 minute after its last request, billed as active or idle by its state; modelled as idle (memory only).',
    },
    defaultVcpu: {
      value: 0.35,
      status: 'assumption',
      source: 'https://github.com/devsapp/fc3/blob/master/src/base.ts',
      read: READ,
      note: 'Serverless Devs fc3 gives memorySize 512 with no cpu and no diskSize 0.35 vCPU (the console default). For other sizes with no cpu, FC\'s default is not documented (only that vCPU:GB is 1:1 to 1:4); the model takes the most FC allows, 1 vCPU per GB, so the figure is an upper bound.',
    },
  },
  eventBridge: {
    systemBusEvent: {
      unit: 'event',
      cny: 0,
      per: 1_000_000,
      status: 'published',
      source: EB_BUS,
      read: READ,
      pageUpdated: '2025-05-09',
      note: 'Publishing on the system (default) bus is free: Cloud Assistant\'s TaskCompleted events.',
    },
    pushToAlibabaCloudTarget: {
      unit: 'event',
      cny: 0,
      per: 1_000_000,
      status: 'published',
      source: EB_BUS,
      read: READ,
      pageUpdated: '2025-05-09',
      note: 'Pushing to an Alibaba Cloud service target (Function Compute) is free.',
    },
    eventStreamEvent: {
      unit: 'event',
      cny: 0.41 * USD_TO_CNY,
      per: 1_000_000,
      status: 'assumption',
      source: EB_STREAM,
      read: READ,
      pageUpdated: '2026-03-11',
      note: `Event streams (summarize's MNS trigger is one, created by FC) bill by event volume: USD 0.41 per million events pulled from the source (64 KB each). No CNY price was found; converted at ${USD_TO_CNY} CNY/USD (assumed).`,
    },
  },
  mns: {
    request: {
      unit: 'request',
      cny: 2,
      per: 1_000_000,
      status: 'assumption',
      source: MNS_LEGACY,
      read: READ,
      note: `The current CNY price per queue request is not in the stored copy of ${MNS} (which says requests are billed per million, per 64 KB, 20 million free a month); 2.00 CNY per million is the older published price, used as the assumption.`,
    },
  },
  oss: {
    put: {
      unit: 'PUT-type request',
      cny: 0.01,
      per: 10_000,
      status: 'assumption',
      source: OSS_RULES,
      read: READ,
      pageUpdated: '2026-03-25',
      note: 'Standard storage. The page gives the rules (ListObjects is a PUT-type request; 4xx/5xx answers are not billed) but its CNY table was not in the stored copy; 0.01 CNY per 10,000 is the widely quoted standard price, used as the assumption.',
    },
    get: {
      unit: 'GET-type request',
      cny: 0.01,
      per: 10_000,
      status: 'assumption',
      source: OSS_RULES,
      read: READ,
      pageUpdated: '2026-03-25',
      note: 'Standard storage (GetObject, HeadObject, GetBucketInfo…); same caveat as PUT.',
    },
  },
  ecs: {
    cloudAssistantCall: {
      unit: 'API call',
      cny: 0,
      per: 1,
      status: 'assumption',
      source: ECS_THROTTLING,
      read: READ,
      note: 'Cloud Assistant API calls (RunCommand, DescribeInvocations, DescribeInvocationResults) are taken as free: no price page for them was found.',
    },
    rateLimitPerSecond: {
      source: ECS_THROTTLING,
      read: READ,
      note: 'Not published: ECS throttles every API per region and account, with thresholds shown only in the Quota Center console (API Rate Limits). The model reports each path\'s peak calls per second instead.',
    },
  },
  notApplied: [
    'Free tiers and trials are not applied: FC\'s trial CU plan for new users, MNS\'s 20 million requests a month, and any OSS free quota.',
    'OSS storage is left out: a run stores results and outputs of a few hundred bytes each (well under 0.01 CNY a month at standard prices).',
    'MNS queue resource fees (per queue per day) and EventBridge\'s idle event-stream fee are the deployment\'s, paid whether or not a run happens.',
    'Internet traffic: every call stays inside the region.',
  ],
});
