// Waiting in tests for something the cluster does on its own clock (its controllers, kwok), bounded.

/** Waits until `condition` holds, checking every 10 ms; throws, naming `what`, after `limitMs`. */
export async function until(condition: () => boolean, what: string, limitMs = 5000): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > limitMs) throw new Error(`${what}: not within ${limitMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
