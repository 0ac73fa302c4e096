import type { Authorize } from '../../ram/access.ts';
import type { FleetAgents } from '../agent.ts';
import type { OutputDelivery } from '../output-delivery.ts';
import type { ServiceLinkedRole } from '../service-linked-role.ts';
import type { CloudAssistantService } from '../service.ts';

export interface ActionContext {
  service: CloudAssistantService;
  agents: FleetAgents;
  regionId: string;
  /** The account the emulator serves (owner of its instances and, here, of the caller). */
  accountId: string;
  outputDelivery?: OutputDelivery | undefined;
  /** Cloud Assistant's role for delivering output to OSS (service-linked-role.ts). */
  serviceLinkedRole: ServiceLinkedRole;
  /** Who signed the call: actions that make the service act further for the caller ask RAM about it. */
  caller: { accessKeyId: string };
  /** The local RAM (ALLOW_ALL when the emulator was given none). */
  authorize: Authorize;
}

/** One API action: structured request parameters in, the response body (without RequestId) out. */
export type Action = (params: Record<string, unknown>, ctx: ActionContext) => Record<string, unknown> | Promise<Record<string, unknown>>;
