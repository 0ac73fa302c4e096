/**
 * Types for `@alicloud/fc2` 2.6.6, which ships none: just InvokeFunction, what fleetrun and its
 * tests call. Non-2xx answers throw an `Error` named `FC<ErrorCode>Error` with `.code`; a function
 * that failed still resolves (200), and only `headers['x-fc-error-type']` says so (docs/platform-facts.md §6.1).
 */
declare module '@alicloud/fc2' {
  namespace FCClient {
    interface Config {
      /** Capital ID: `accessKeyId` is ignored and the constructor throws. */
      accessKeyID: string;
      accessKeySecret: string;
      /** Required when accessKeyID starts with `STS`; sent as `x-fc-security-token`. */
      securityToken?: string;
      /** Required even when `endpoint` is given. */
      region: string;
      /** With the scheme: `http://127.0.0.1:PORT`. The Host header it sends drops the port. */
      endpoint?: string;
      secure?: boolean;
      internal?: boolean;
      /** Milliseconds; 60 000 by default. There are no retries. */
      timeout?: number;
      headers?: Record<string, string>;
    }
    interface Response<D = unknown> {
      headers: Record<string, string | undefined>;
      /** JSON-parsed when the answer's content-type starts with application/json, else the text ('' for a 202). */
      data: D;
    }
    /** What a rejected call throws. */
    interface FCError extends Error {
      /** `FC${ErrorCode}Error`, e.g. `FCFunctionNotFoundError`; `FCundefinedError` for a non-JSON body. */
      name: string;
      code?: string;
    }
  }
  class FCClient {
    constructor(accountId: string, config: FCClient.Config);
    /**
     * POST /2016-08-15/services/<service>[.<qualifier>]/functions/<fn>/invocations. `event` must be a
     * string or a Buffer (an object throws TypeError). Headers such as `x-fc-invocation-type: Async`
     * are sent and signed.
     */
    invokeFunction<D = unknown>(serviceName: string, functionName: string, event: string | Buffer, headers?: Record<string, string>, qualifier?: string, opts?: { rawBuf?: boolean }): Promise<FCClient.Response<D>>;
  }
  export = FCClient;
}
