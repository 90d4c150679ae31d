/**
 * Callers waiting for a projector to reach a log position (read-your-writes): each resolves true
 * once the position is reached, false after its timeout or when the projector stops. Shared by the
 * in-memory runner and the PostgreSQL projector, which differ in how they fold, not in this.
 */
export class PositionWaiters {
  private readonly waiting = new Set<{ position: number; resolve: (reached: boolean) => void }>();

  wait(position: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter = {
        position,
        resolve: (reached: boolean) => {
          clearTimeout(timer);
          this.waiting.delete(waiter);
          resolve(reached);
        },
      };
      const timer = setTimeout(() => waiter.resolve(false), timeoutMs);
      this.waiting.add(waiter);
    });
  }

  /** The projector has folded everything up to `reached`. */
  reached(reached: number): void {
    for (const waiter of [...this.waiting]) if (reached >= waiter.position) waiter.resolve(true);
  }

  /** The projector stopped: nobody's position will be reached by it any more. */
  releaseAll(): void {
    for (const waiter of [...this.waiting]) waiter.resolve(false);
  }
}
