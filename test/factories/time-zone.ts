import { runInThisContext } from 'node:vm';

/**
 * Runs `fn` with the whole process in time zone `tz`, then restores the previous zone.
 *
 * Node re-reads the zone when `process.env.TZ` is assigned, but inside a Jest test `process.env`
 * is a sandbox copy: assigning it changes nothing. The real `process.env` is reached through the
 * main context (`vm.runInThisContext`). The zone is per isolate, so the app under test (same
 * process, `--runInBand`) sees it too. Throws when the switch did not take effect, so a test can
 * never pass in UTC by accident.
 */
export async function withTimeZone<T>(tz: string, fn: () => Promise<T> | T): Promise<T> {
  const realEnv = runInThisContext('process.env') as NodeJS.ProcessEnv;
  const saved = realEnv.TZ;
  realEnv.TZ = tz;
  process.env.TZ = tz;
  try {
    const expected = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'shortOffset' }).format(new Date());
    const actual = new Intl.DateTimeFormat('en-US', { timeZoneName: 'shortOffset' }).format(new Date());
    if (expected !== actual) throw new Error(`process time zone is not ${tz} (${actual} vs ${expected})`);
    return await fn();
  } finally {
    if (saved === undefined) delete realEnv.TZ;
    else realEnv.TZ = saved;
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
}

/** The process's current UTC offset in minutes east of UTC at `at` (Tokyo +540, New York −240 in April). */
export function localOffsetMinutes(at: Date): number {
  return 0 - at.getTimezoneOffset() || 0;
}
