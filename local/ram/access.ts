/**
 * The question every local service asks before it serves a signed call: may this caller do this
 * action on these resources? Services take an `Authorize` and ask it after the signature checks out;
 * without one, every call is allowed (the standalone emulators, the user's own keys).
 */

export interface AccessRequest {
  /** The AccessKey id the request was signed with (an STS key for a function's role). */
  accessKeyId: string;
  /** `<service>:<Action>` as RAM names it: `ecs:RunCommand`, `oss:PutObject`, `mns:SendMessage`, `fc:InvokeFunction`, `ram:CreateServiceLinkedRole`. */
  action: string;
  /** The ARNs the call acts on, e.g. `acs:ecs:cn-hangzhou:123:instance/i-1`, `acs:oss:*:123:bucket/key`; `*` where RAM has no resource. */
  resources: string[];
  /** Condition keys of the request, e.g. `{ 'ram:ServiceName': '…', 'acs:SecureTransport': 'false' }`. */
  context?: Record<string, string | string[]>;
}

export type AccessDecision = { allowed: true } | { allowed: false; reason: string };

export type Authorize = (request: AccessRequest) => AccessDecision;

/** Every call allowed: what a service does when it is given no `Authorize`. */
export const ALLOW_ALL: Authorize = () => ({ allowed: true });
