import { Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';

/**
 * Queue plumbing for the "persist first, enqueue second" sweepers: runs `pass()` every
 * `intervalMs` (timer unref'd, so it never keeps a process alive), skips a pass while the previous
 * one still runs, and turns a thrown error into a logged warning and the `idle` result. Each
 * domain folder subclasses it beside the work it re-enqueues; this file knows no domain.
 */
export abstract class PeriodicSweep<T> implements OnApplicationBootstrap, OnModuleDestroy {
  protected abstract readonly logger: Logger;
  private timer?: NodeJS.Timeout;
  private running = false;

  /**
   * @param intervalMs time between passes, in milliseconds
   * @param idle the result of a skipped or failed pass
   */
  protected constructor(
    private readonly intervalMs: number,
    private readonly idle: T,
  ) {}

  /** One pass of the subclass's work. Errors are caught by `sweep()`. */
  protected abstract pass(): Promise<T>;

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), this.intervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** One pass now; overlapping passes are skipped. @returns the pass's result, or `idle`. */
  async sweep(): Promise<T> {
    if (this.running) return this.idle;
    this.running = true;
    try {
      return await this.pass();
    } catch (err) {
      this.logger.warn(`${this.constructor.name} pass failed: ${(err as Error).message}`);
      return this.idle;
    } finally {
      this.running = false;
    }
  }
}
