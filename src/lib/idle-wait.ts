/**
 * How a background loop (the webhook dispatcher, the job runner) waits when it has nothing to do.
 *
 * - wake() ends the wait at once; every write in this process calls it.
 * - After a look that drained what was due, the loop sleeps until the next due time it can read
 *   (a retry, a lapsing lease), within capMs, when capMs is above pollMs: the embedded database,
 *   which no other process writes. Something due already but not claimable (a row another process
 *   holds) is looked at again after pollMs, not in a loop.
 * - Otherwise (work in flight, whose end wakes the loop; a failed look; PostgreSQL, where another
 *   process may write) it sleeps pollMs.
 */
export interface IdleWaiterOptions {
  pollMs: number;
  /** Default: pollMs, i.e. always poll. */
  capMs?: number;
  /** The earliest time something becomes due, null when nothing is waiting. */
  nextDue(): Promise<Date | null>;
  now(): Date;
  onError(err: unknown): void;
}

export function createIdleWaiter(opts: IdleWaiterOptions) {
  const capMs = Math.max(opts.pollMs, opts.capMs ?? opts.pollMs);
  let woken = false;
  let endWait: (() => void) | null = null;

  async function waitMs(): Promise<number> {
    const at = await opts.nextDue();
    if (!at) return capMs;
    const inMs = at.getTime() - opts.now().getTime();
    return inMs > 0 ? Math.min(capMs, inMs) : opts.pollMs;
  }

  return {
    wake(): void {
      woken = true;
      endWait?.();
    },
    /** Whether wake() was called since the last clear(). */
    get woken(): boolean {
      return woken;
    },
    /** Before a look for work: wakes from then on mean something new. */
    clear(): void {
      woken = false;
    },
    /** Sleeps, or returns at once if woken meanwhile. `drained`: the last look found nothing more due. */
    async sleep(drained: boolean): Promise<void> {
      let ms = opts.pollMs;
      if (drained && capMs > opts.pollMs) {
        try {
          ms = await waitMs();
        } catch (err) {
          opts.onError(err);
        }
        if (woken) return;
      }
      // A wake clears the timer: the loops are woken by every write, and with long waits the
      // timers left behind would pile up.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        timer.unref();
        endWait = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      endWait = null;
    },
  };
}
