/**
 * What a handler gets besides its event, the same on FC and on the local host. Only adapters
 * build it; handlers never look at the platform's own context.
 * @see docs/platform-facts.md §5.2
 */
import type { Logger } from './logger.ts';

export interface Credentials {
  accessKeyId: string;
  accessKeySecret: string;
  /** Present for the function role's STS credentials. */
  securityToken?: string | undefined;
}

export interface FleetrunContext {
  requestId: string;
  functionName: string;
  region: string;
  accountId: string;
  credentials: Credentials;
  logger: Logger;
  /**
   * When FC stops this invocation: the handler's start plus the function's timeout
   * (`context.function.timeout`). FC's Node.js context has no remaining-time method (§5.2), so a
   * handler that must finish in time budgets from this. Absent when the platform gives no timeout.
   */
  deadline?: Date;
}

/** A handler in the aws-lambda style: typed event in, result out. */
export type Handler<E, R> = (event: E, context: FleetrunContext) => Promise<R>;
