/**
 * The demo's signed generic webhook as the chat tests speak it to chatops over the local HTTP
 * trigger: a command from a user, replies to a local chat thread.
 */
import { webhookHeaders } from '../../shared/chat/sign.ts';
import { DEMO_CHAT } from '../../local/local-cloud.ts';

export interface SignedWebhook {
  body: string;
  headers: Record<string, string>;
}

export interface WebhookAnswer {
  status: number;
  body: { ok?: boolean; code?: string; message?: string };
}

/** The request, signed with the demo secret: kept whole so a test can send it twice (a replay). */
export function signedWebhook(text: string, user: string, callbackUrl: string): SignedWebhook {
  const body = JSON.stringify({ user, text, callbackUrl });
  return { body, headers: { 'content-type': 'application/json', ...webhookHeaders(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, body) } };
}

export async function postWebhook(chatUrl: string, request: SignedWebhook): Promise<WebhookAnswer> {
  const res = await fetch(`${chatUrl}/webhook`, { method: 'POST', body: request.body, headers: request.headers });
  return { status: res.status, body: (await res.json()) as WebhookAnswer['body'] };
}
