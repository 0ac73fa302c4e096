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
}

/** A handler in the aws-lambda style: typed event in, result out. */
export type Handler<E, R> = (event: E, context: FleetrunContext) => Promise<R>;
