import { getPriority } from 'node:os';
import { validateEnvironment } from './config/env.validation';
import { lowerWorkerPriority } from './bootstrap';

describe('lowerWorkerPriority (WORKER_NICE)', () => {
  const logger = () => ({ log: jest.fn(), warn: jest.fn() });

  it('defaults to 0 and then leaves the priority alone', () => {
    const env = validateEnvironment({});
    expect(env.WORKER_NICE).toBe(0);
    const spy = jest.spyOn(require('node:os'), 'setPriority');
    lowerWorkerPriority(env.WORKER_NICE, logger());
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
  });

  it('lowers the calling process to the configured nice value', () => {
    // On this jest worker process itself: one step nicer than now (an unprivileged process cannot
    // go back, so nothing is restored; the worker process exits after the suite).
    const before = getPriority(0);
    const target = Math.min(19, before + 1);
    const l = logger();
    lowerWorkerPriority(target, l);
    expect(getPriority(0)).toBe(target);
    expect(l.log).toHaveBeenCalledWith(expect.stringContaining(`nice ${target}`));
  });

  it('logs a refused change as a warning instead of failing', () => {
    const l = logger();
    const spy = jest.spyOn(require('node:os'), 'setPriority').mockImplementation(() => {
      throw new Error('EACCES');
    });
    expect(() => lowerWorkerPriority(-5, l)).not.toThrow();
    expect(l.warn).toHaveBeenCalledWith(expect.stringContaining('WORKER_NICE=-5 refused'));
    spy.mockRestore();
  });

  it('refuses a nice value outside -20..19', () => {
    expect(() => validateEnvironment({ WORKER_NICE: '20' })).toThrow(/WORKER_NICE/);
  });
});
