/**
 * Cloud Assistant's service-linked role for delivering output to OSS. Alibaba's page "Manage the
 * service-linked role for Cloud Assistant"
 * (https://www.alibabacloud.com/help/en/ecs/user-guide/manage-the-service-linked-role-for-ecs-cloud-assistant)
 * names it `AliyunServiceRoleForECSArchiving`, for the service `archiving.ecs.aliyuncs.com`: when
 * output delivery is used, the system checks that the role exists and creates it if not. Creating
 * it is `ram:CreateServiceLinkedRole` on `acs:ram:*:<account>:role/*` with the condition key
 * `ram:ServiceName` (RAM's CreateServiceLinkedRole authorization table).
 *
 * Seed 001 gives the two answers on the way: `CreateServiceLinkedRole.NoPermission` (403) for a
 * caller who may not create it, `ResourceBusy.SlrCreation` (400) while it is being created. How
 * long creation takes is not documented: `creationSeconds` is an assumption (and the emulator's
 * default of 1 s a choice), listed in docs/cloud-assistant-coverage.md.
 *
 * A RAM role belongs to the whole account; one emulator serves one region of one account, so its
 * one state is that account's role as this region sees it.
 */
import type { Authorize } from '../ram/access.ts';
import { EcsApiError } from './api-error.ts';

export const ARCHIVING_SERVICE_NAME = 'archiving.ecs.aliyuncs.com';
export const ARCHIVING_ROLE_NAME = 'AliyunServiceRoleForECSArchiving';
/** Seconds the role takes to be created when none is configured (unconfirmed; see the module comment). */
export const DEFAULT_SLR_CREATION_SECONDS = 1;

export interface ServiceLinkedRoleOptions {
  /** The role exists from the start (default false, so the first delivery goes through creating it). */
  exists?: boolean | undefined;
  /** How long creating it takes; 0 makes it exist at once. Default {@link DEFAULT_SLR_CREATION_SECONDS}. */
  creationSeconds?: number | undefined;
  /** The clock, in ms; default Date.now. */
  now?: () => number;
}

export type ServiceLinkedRoleState = 'absent' | 'creating' | 'exists';

/** The archiving role of one account, as OssOutputDelivery calls find it. */
export class ServiceLinkedRole {
  readonly #accountId: string;
  readonly #creationMs: number;
  readonly #now: () => number;
  /** When creation finishes (or finished); undefined while nobody started it. */
  #readyAt: number | undefined;

  constructor(accountId: string, options: ServiceLinkedRoleOptions = {}) {
    const seconds = options.creationSeconds ?? DEFAULT_SLR_CREATION_SECONDS;
    if (!(seconds >= 0)) throw new Error(`slrCreationSeconds must be 0 or more, got ${seconds}`);
    this.#accountId = accountId;
    this.#creationMs = seconds * 1000;
    this.#now = options.now ?? Date.now;
    this.#readyAt = options.exists ? Number.NEGATIVE_INFINITY : undefined;
  }

  get state(): ServiceLinkedRoleState {
    if (this.#readyAt === undefined) return 'absent';
    return this.#now() >= this.#readyAt ? 'exists' : 'creating';
  }

  /** The role deleted, as the account's owner may (RAM DeleteServiceLinkedRole): the next delivery creates it again. */
  delete(): void {
    this.#readyAt = undefined;
  }

  /**
   * Returns when the role exists. Otherwise starts creating it for a caller RAM lets create it, and
   * throws: `CreateServiceLinkedRole.NoPermission` when RAM does not, `ResourceBusy.SlrCreation`
   * while creation lasts (the call that starts it included).
   */
  ensure(caller: { accessKeyId: string }, authorize: Authorize): void {
    const now = this.#now();
    if (this.#readyAt === undefined) {
      const decision = authorize({
        accessKeyId: caller.accessKeyId,
        action: 'ram:CreateServiceLinkedRole',
        resources: [`acs:ram:*:${this.#accountId}:role/*`],
        context: { 'ram:ServiceName': ARCHIVING_SERVICE_NAME },
      });
      if (!decision.allowed) {
        throw new EcsApiError('CreateServiceLinkedRole.NoPermission', `${ARCHIVING_ROLE_NAME} does not exist and the caller may not create it (${decision.reason}).`);
      }
      this.#readyAt = now + this.#creationMs;
    }
    if (now < this.#readyAt) throw new EcsApiError('ResourceBusy.SlrCreation', `${ARCHIVING_ROLE_NAME} is being created.`);
  }
}
