/**
 * The life of a local service that can be stopped and started again on the same port and data —
 * to show that nothing it accepted is lost — and closed for good. The local MNS and OSS share it.
 */
export interface Serving<S> {
  port: number;
  store: S;
  stop(): Promise<void>;
}

export interface Restartable<S> {
  readonly current: Serving<S>;
  /** False while a restart has the service down, and once it is closed. */
  readonly up: boolean;
  /** Stops serving, runs `whileDown`, and serves again from the same data on the same port. */
  restart(whileDown?: () => Promise<unknown>): Promise<void>;
  close(): Promise<void>;
}

export function restartable<S>(name: string, first: Serving<S>, serveAgain: (port: number) => Promise<Serving<S>>): Restartable<S> {
  let serving = first;
  let up = true;
  let closing: Promise<void> | undefined;
  let restarting: Promise<void> | undefined;
  return {
    get current() {
      return serving;
    },
    get up() {
      return up;
    },
    restart(whileDown) {
      if (closing) return Promise.reject(new Error(`${name} is closed`));
      restarting ??= (async () => {
        up = false;
        await serving.stop();
        try {
          await whileDown?.();
        } finally {
          if (!closing) {
            serving = await serveAgain(first.port);
            up = true;
          }
        }
      })().finally(() => (restarting = undefined));
      return restarting;
    },
    close() {
      closing ??= (async () => {
        await restarting?.catch(() => {});
        up = false;
        await serving.stop();
      })();
      return closing;
    },
  };
}
