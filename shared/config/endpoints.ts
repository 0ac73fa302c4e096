/**
 * Where each cloud client connects, and how: HTTPS to every Alibaba Cloud endpoint, and the
 * in-region (internal) endpoints of OSS and MNS, because the functions run in the region of their
 * bucket and queue (docs/platform-facts.md §8.4, §9.1). An explicit endpoint in the environment
 * (the local cloud's `http://127.0.0.1:PORT`, another set-up's) always wins, scheme included.
 * Pure: no SDK is loaded here, so the choice is tested without a network.
 */

/** The part of a function's environment the endpoints are chosen from. */
export interface TransportEnv {
  FLEETRUN_REGION: string;
  FLEETRUN_ACCOUNT_ID: string;
  FLEETRUN_OSS_ENDPOINT?: string | undefined;
  /** false: the public OSS endpoint (a function outside the bucket's region, a tool on a laptop). */
  FLEETRUN_OSS_INTERNAL?: boolean | undefined;
  FLEETRUN_MNS_ENDPOINT?: string | undefined;
  FLEETRUN_MNS_INTERNAL?: boolean | undefined;
  FLEETRUN_ECS_ENDPOINT?: string | undefined;
  FLEETRUN_ECS_PROTOCOL?: 'http' | 'https' | undefined;
  FLEETRUN_FC_ENDPOINT?: string | undefined;
}

export type Protocol = 'http' | 'https';

const SCHEME = /^(https?):\/\/([^/]+)\/?$/i;

/** `http://host:port` → { protocol: 'http', host: 'host:port' }; a bare host has no protocol of its own. */
function splitEndpoint(endpoint: string): { protocol?: Protocol; host: string } {
  const m = SCHEME.exec(endpoint.trim());
  return m ? { protocol: m[1]!.toLowerCase() as Protocol, host: m[2]! } : { host: endpoint.trim().replace(/\/$/, '') };
}

/** A URL with its scheme: a bare host given explicitly gets HTTPS. */
function withScheme(endpoint: string): string {
  const { protocol, host } = splitEndpoint(endpoint);
  return `${protocol ?? 'https'}://${host}`;
}

export interface OssEndpoints {
  /** What the store reads and writes through. */
  endpoint: string;
  /**
   * What links given to people are signed for: never the internal endpoint, which resolves only
   * inside the region's network.
   */
  publicEndpoint: string;
}

export function ossEndpoints(env: TransportEnv): OssEndpoints {
  if (env.FLEETRUN_OSS_ENDPOINT) {
    const given = withScheme(env.FLEETRUN_OSS_ENDPOINT);
    return { endpoint: given, publicEndpoint: given };
  }
  const publicEndpoint = `https://oss-${env.FLEETRUN_REGION}.aliyuncs.com`;
  return { endpoint: env.FLEETRUN_OSS_INTERNAL === false ? publicEndpoint : `https://oss-${env.FLEETRUN_REGION}-internal.aliyuncs.com`, publicEndpoint };
}

/** The MNS endpoint with its scheme, as `@alicloud/mns` wants it. */
export function mnsEndpoint(env: TransportEnv): string {
  if (env.FLEETRUN_MNS_ENDPOINT) return withScheme(env.FLEETRUN_MNS_ENDPOINT);
  return `https://${env.FLEETRUN_ACCOUNT_ID}.mns.${env.FLEETRUN_REGION}${env.FLEETRUN_MNS_INTERNAL === false ? '' : '-internal'}.aliyuncs.com`;
}

/**
 * The ECS endpoint the way openapi-core wants it: a host without a scheme (undefined: the SDK's
 * regional one) and the protocol apart. FLEETRUN_ECS_PROTOCOL wins over the endpoint's scheme.
 */
export function ecsEndpoint(env: TransportEnv): { endpoint: string | undefined; protocol: Protocol } {
  if (!env.FLEETRUN_ECS_ENDPOINT) return { endpoint: undefined, protocol: env.FLEETRUN_ECS_PROTOCOL ?? 'https' };
  const { protocol, host } = splitEndpoint(env.FLEETRUN_ECS_ENDPOINT);
  return { endpoint: host, protocol: env.FLEETRUN_ECS_PROTOCOL ?? protocol ?? 'https' };
}

/** The FC API endpoint with its scheme (both FC clients): the account's regional one over HTTPS unless given. */
export function fcEndpoint(env: TransportEnv): string {
  if (env.FLEETRUN_FC_ENDPOINT) return withScheme(env.FLEETRUN_FC_ENDPOINT);
  return `https://${env.FLEETRUN_ACCOUNT_ID}.${env.FLEETRUN_REGION}.fc.aliyuncs.com`;
}
