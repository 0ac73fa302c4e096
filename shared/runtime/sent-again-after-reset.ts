/**
 * One call sent once more after a connection reset (`code: 'ECONNRESET'`, "socket hang up"): the
 * SDKs keep idle connections open with no time limit, and a function instance waits between its
 * invocations frozen, so the server has often closed the connection its next call is sent on.
 * Only for calls whose repeat does no harm should the first have been taken after all (the callers
 * say why theirs does none). ECS calls retry it in their own policy (cloud-assistant/retry.ts) and
 * OSS calls in ali-oss's (store/ali-oss-store.ts).
 */
export async function sentAgainAfterReset<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'ECONNRESET') throw e;
    return send();
  }
}
