/**
 * The pipeline's clients, built from the configuration and the credentials FC hands each
 * invocation (the function role's STS keys). Each is made once per cold start and again only when
 * the credentials change. Each builder lives in its own module, so a function's bundle carries only
 * the SDKs it calls.
 */
import type { Credentials, FleetrunContext } from '../runtime/context.ts';

export function credentialsKey(c: Credentials): string {
  return `${c.accessKeyId}\0${c.accessKeySecret}\0${c.securityToken ?? ''}`;
}

/** Memoises `make` per credentials: a new STS token gets new clients, the same one reuses them. */
export function perCredentials<T>(make: (credentials: Credentials) => T): (context: Pick<FleetrunContext, 'credentials'>) => T {
  let cached: { key: string; value: T } | undefined;
  return (context) => {
    const key = credentialsKey(context.credentials);
    if (cached?.key !== key) cached = { key, value: make(context.credentials) };
    return cached.value;
  };
}
