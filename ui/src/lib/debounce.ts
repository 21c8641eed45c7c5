/** Calls `f` once, `ms` after the last call (for typing: search as the officer pauses). */
export function debounce<A extends unknown[]>(f: (...args: A) => void, ms: number): (...args: A) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (...args: A) => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      f(...args);
    }, ms);
  };
}

/**
 * Calls `f` at most once every `ms`, and always once more after the last call, with its
 * arguments. For change events: a debounce would never fire while a drill sends changes
 * faster than its delay, and the queue and map would freeze exactly when they matter.
 */
export function throttle<A extends unknown[]>(f: (...args: A) => void, ms: number): (...args: A) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending: A | null = null;
  let last = -Infinity;
  const run = () => {
    timer = undefined;
    if (!pending) return;
    const args = pending;
    pending = null;
    last = Date.now();
    f(...args);
  };
  return (...args: A) => {
    pending = args;
    if (timer !== undefined) return;
    timer = setTimeout(run, Math.max(0, last + ms - Date.now()));
  };
}
