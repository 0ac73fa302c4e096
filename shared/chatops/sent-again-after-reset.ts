/**
 * The one retry of chatops's hand-offs to dispatch (fc3-dispatcher.ts, fc2-dispatcher.ts): sent
 * once more after a connection reset (ECONNRESET, "socket hang up"). chatops waits for chat
 * between its calls, frozen, and the FC API closes the connection it kept meanwhile, so the first
 * hand-off after a pause can meet a closed one. Should the first invocation have been taken after
 * all, dispatch runs twice to one effect (its writes are create-once, its RunCommand calls carry
 * ClientTokens).
 */
export async function sentAgainAfterReset<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'ECONNRESET') throw e;
    return send();
  }
}
