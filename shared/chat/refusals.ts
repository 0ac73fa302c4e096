/**
 * Why fleetrun refused a chat request, as stable codes a machine can act on. The signed webhook
 * answers a refusal with the code's HTTP status and `{ ok: false, code, message }`; Slack, DingTalk
 * and Lark need their usual 200 answer, so there the code is only logged and the person reads the
 * message. The codes are part of the webhook's contract (README, "Chat"): add new ones, never
 * rename or reuse one.
 */

/**
 * Each code with the status the webhook answers it with and what it means (logged as the reason:
 * a fixed sentence, never the request's text, which may hold parameter values).
 *
 * Statuses: 400 when the request itself is wrong and resending it unchanged can never work; 401
 * when it cannot be trusted (the client's signing is wrong, or the request is stale or a copy);
 * 403 when it is understood but the policy does not let this requester do it; 404 when the run it
 * addresses does not exist (for approve and deny: was never held for approval); 409 when it is not in a state the request fits (retry of a run still
 * open, or of one with nothing of the kind asked for), which the same request may fit later; 422 when the command exists but the values given do not fit its
 * declaration; 503 when the deployment lacks configuration it needs for this request — not the
 * client's fault, and the same request works once the operator fixes it.
 */
export const REFUSALS = {
  BadRequest: { status: 400, meaning: 'the HTTP request is not a fleetrun webhook request (method, size, JSON or body fields)' },
  BadSignature: { status: 401, meaning: 'the signature headers are missing, malformed or do not match the body' },
  Expired: { status: 401, meaning: 'the timestamp is more than 5 minutes from now' },
  Replayed: { status: 401, meaning: 'this exact signed request was already accepted once' },
  BadGrammar: { status: 400, meaning: 'the text does not follow the command grammar (including a first word that is not run, status, stop, approve, deny, retry, runs, jobs or help)' },
  UnknownCommand: { status: 400, meaning: 'run names a command the catalog does not have' },
  BadParameters: { status: 422, meaning: 'the catalog command does not accept the values, timeout or script given' },
  NotAllowed: { status: 403, meaning: 'the access policy does not allow this requester this action, command or these targets' },
  UnknownRun: { status: 404, meaning: 'status, stop or retry names a run that does not exist, or approve or deny one that was never held for approval' },
  NoSealKey: { status: 503, meaning: 'the command has secret parameters and this deployment has no seal key to protect them' },
  NotRetryable: { status: 409, meaning: 'retry names a run not finished (running, not started yet, or held for approval), or that has no instances of the kind asked for' },
  NotPending: { status: 409, meaning: 'approve or deny names a run that is not waiting for approval: already decided, or expired' },
  SelfApproval: { status: 403, meaning: 'approve names a run its requester asked for: someone else must approve it' },
  CallbackNotAllowed: { status: 400, meaning: 'callbackUrl is not on an origin this deployment lists for webhook replies (FLEETRUN_WEBHOOK_CALLBACK_ORIGINS)' },
} as const satisfies Record<string, { status: 400 | 401 | 403 | 404 | 409 | 422 | 503; meaning: string }>;

export type RefusalCode = keyof typeof REFUSALS;

/** A refusal as a message carries it: the code, and the status the webhook answers with. */
export interface Refusal {
  code: RefusalCode;
  status: (typeof REFUSALS)[RefusalCode]['status'];
}

export function refusal(code: RefusalCode): Refusal {
  return { code, status: REFUSALS[code].status };
}
