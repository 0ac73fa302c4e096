import type { FleetAgents } from '../agent.ts';
import type { OutputDelivery } from '../output-delivery.ts';
import type { CloudAssistantService } from '../service.ts';

export interface ActionContext {
  service: CloudAssistantService;
  agents: FleetAgents;
  regionId: string;
  outputDelivery?: OutputDelivery | undefined;
}

/** One API action: structured request parameters in, the response body (without RequestId) out. */
export type Action = (params: Record<string, unknown>, ctx: ActionContext) => Record<string, unknown> | Promise<Record<string, unknown>>;
