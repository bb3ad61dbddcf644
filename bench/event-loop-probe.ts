import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';

/**
 * Preloaded (`node -r`) into a process that bench/load.ts starts, when BENCH_ELD_FILE is set: the
 * diagnostics of that process during a bench phase, without touching the product code.
 * - event-loop delay: `perf_hooks.monitorEventLoopDelay` (10 ms resolution), p50/p99/max in ms;
 * - garbage collection: count, total and longest pause (ms) from the 'gc' performance entries.
 * SIGWINCH (ignored by default; Nest's shutdown hooks take SIGUSR2 and Node's inspector SIGUSR1)
 * writes them since the previous SIGWINCH as one JSON object to BENCH_ELD_FILE, then resets them.
 * The delays are beyond the monitor's own 5 ms timer (Node's histogram includes the resolution).
 */
const file = process.env.BENCH_ELD_FILE;
const RESOLUTION_MS = 5;
if (file) {
  const eld = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  eld.enable();
  let gc = { count: 0, totalMs: 0, maxMs: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++;
      gc.totalMs += e.duration;
      gc.maxMs = Math.max(gc.maxMs, e.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  let since = performance.now();
  process.on('SIGWINCH', () => {
    const ms = (ns: number) => Math.max(0, Math.round(ns / 1e4) / 100 - RESOLUTION_MS);
    writeFileSync(
      file,
      JSON.stringify({
        seconds: Math.round((performance.now() - since) / 100) / 10,
        eventLoopDelayMs: { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max) },
        gc: { count: gc.count, totalMs: Math.round(gc.totalMs), maxMs: Math.round(gc.maxMs * 10) / 10 },
      }),
    );
    eld.reset();
    gc = { count: 0, totalMs: 0, maxMs: 0 };
    since = performance.now();
  });
}
