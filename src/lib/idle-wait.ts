/**
 * A background loop's idle wait: `done` resolves after `ms`, or at once when `wake()` is called.
 * wake() clears the timer: the loops are woken by every write, and with long idle waits the timers
 * left behind would pile up.
 */
export function idleWait(ms: number): { done: Promise<void>; wake: () => void } {
  let wake!: () => void;
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    wake = () => { clearTimeout(timer); resolve(); };
  });
  return { done, wake };
}
