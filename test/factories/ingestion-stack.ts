import { resetDatabase, startStack, TestStack } from '../utils/test-stack';
import { loadTerritories, territory } from './territory.factory';

/**
 * The setup the ingestion specs share, registered as jest hooks of the calling `describe`: the stack
 * (API, worker and default admin key, see `startStack`) started once before its tests and closed
 * after them; before each test an empty database with territories `codes` loaded (default
 * attributes; none loaded when `codes` is empty).
 *
 * Returns the stack as a handle that reads through to the stack started in `beforeAll`, so a spec
 * keeps writing `stack.http`, `stack.dataSource`, … in its tests and helpers; reading it before
 * `beforeAll` has run (at describe time) throws.
 */
export function useIngestionStack(codes: readonly string[]): TestStack {
  let live: TestStack | undefined;
  beforeAll(async () => {
    live = await startStack();
  });
  afterAll(async () => {
    await live?.close();
  });
  beforeEach(async () => {
    await resetDatabase(live!.dataSource);
    if (codes.length) await loadTerritories(live!.http, codes.map((code) => territory({ code })));
  });
  return new Proxy({} as TestStack, {
    get(_, prop) {
      if (!live) throw new Error(`the ingestion stack is read (.${String(prop)}) before its beforeAll has started it`);
      return Reflect.get(live, prop);
    },
  });
}
