/**
 * What a function's handler works with, built from its configuration at the lifetime each part
 * needs, in one place per function:
 * - once per process: what holds no credentials (the chat sender, which keeps Lark's token);
 * - once per credentials: the SDK clients, signed with the function role's STS keys that FC hands
 *   every invocation (docs/platform-facts.md §5.2) — a new token gets new clients, the same one
 *   reuses them, however many invocations a warm instance serves;
 * - per invocation: what logs, since the logger carries the invocation's request id.
 *
 * Every invocation also gets `logger`: the context's, which already hides the credentials, told the
 * function's own secrets too. Each function names the parts it needs (functions/*\/index.ts), so its
 * bundle carries only the SDKs those parts call (bench/coldstart.ts counts them).
 */
import type { Credentials, FleetrunContext } from './context.ts';
import type { Logger } from './logger.ts';

export function credentialsKey(c: Credentials): string {
  return `${c.accessKeyId}\0${c.accessKeySecret}\0${c.securityToken ?? ''}`;
}

type With<D, K extends string, T> = D & { [P in K]: T };

/** The parts every invocation gets whatever the function added. */
export interface InvocationBase {
  logger: Logger;
}

/**
 * A function's parts so far, by lifetime: those built once for the process (P), once per
 * credentials (C), per invocation (I). Each `per…` call returns a new set with one part more, built
 * from the configuration and the parts it can see: a part never sees one that lives shorter.
 */
export interface FunctionDeps<E, P extends object, C extends object, I extends object> {
  /** A part built now, once for the process. */
  perProcess<K extends string, T>(name: K, build: (env: E, deps: P) => T): FunctionDeps<E, With<P, K, T>, C, I>;
  /** A part built on the first invocation with new credentials, and kept while they stay the same. */
  perCredentials<K extends string, T>(name: K, build: (env: E, credentials: Credentials, deps: P & C) => T): FunctionDeps<E, P, With<C, K, T>, I>;
  /** A part built for each invocation, from the others and the invocation's logger. */
  perInvocation<K extends string, T>(name: K, build: (env: E, deps: P & C & I & InvocationBase) => T): FunctionDeps<E, P, C, With<I, K, T>>;
  /** Every part for this invocation. */
  for(context: Pick<FleetrunContext, 'credentials' | 'logger'>): P & C & I & InvocationBase;
}

type Parts = Record<string, unknown>;

type Step =
  | { lifetime: 'credentials'; name: string; build: (credentials: Credentials, deps: Parts) => unknown }
  | { lifetime: 'invocation'; name: string; build: (deps: Parts) => unknown };

export interface FunctionDepsOptions {
  /** Values no log line of the function may show: its chat secrets (chatSecrets in config/chat-env.ts). The seal key is added by itself. */
  secrets?: readonly string[];
}

/** A function's parts, none yet: add them with `perProcess`, `perCredentials` and `perInvocation`. */
export function functionDeps<E>(env: E, options: FunctionDepsOptions = {}): FunctionDeps<E, object, object, object> {
  // Every function that holds the seal key could log it by mistake; no function has to remember to hide it.
  const sealKey = (env as { FLEETRUN_SEAL_KEY?: unknown }).FLEETRUN_SEAL_KEY;
  return partsOf(env, [...(options.secrets ?? []), ...(typeof sealKey === 'string' && sealKey !== '' ? [sealKey] : [])], {}, []);
}

function partsOf<E, P extends object, C extends object, I extends object>(env: E, secrets: readonly string[], processParts: Parts, steps: readonly Step[]): FunctionDeps<E, P, C, I> {
  const taken = new Set(['logger', ...Object.keys(processParts), ...steps.map((s) => s.name)]);
  const named = (name: string) => {
    // Two parts under one name would leave one of them unreachable: a wiring mistake, found at load.
    if (taken.has(name)) throw new Error(`function dependency '${name}' is already defined`);
    return name;
  };
  let cached: { key: string; parts: Parts } | undefined;
  const forCredentials = (credentials: Credentials): Parts => {
    const key = credentialsKey(credentials);
    if (cached?.key !== key) {
      const parts: Parts = { ...processParts };
      for (const step of steps) if (step.lifetime === 'credentials') parts[step.name] = step.build(credentials, parts);
      cached = { key, parts };
    }
    return cached.parts;
  };
  return {
    perProcess: (name, build) => partsOf(env, secrets, { ...processParts, [named(name)]: build(env, processParts as P) }, steps),
    perCredentials: (name, build) =>
      partsOf(env, secrets, processParts, [...steps, { lifetime: 'credentials', name: named(name), build: (credentials, deps) => build(env, credentials, deps as P & C) }]),
    perInvocation: (name, build) =>
      partsOf(env, secrets, processParts, [...steps, { lifetime: 'invocation', name: named(name), build: (deps) => build(env, deps as P & C & I & InvocationBase) }]),
    for(context) {
      const parts: Parts = { ...forCredentials(context.credentials), logger: context.logger.withSecrets(secrets) };
      for (const step of steps) if (step.lifetime === 'invocation') parts[step.name] = step.build(parts);
      return parts as P & C & I & InvocationBase;
    },
  };
}
