import { assertNoNonFinite } from '../../test/fixtures/assert-finite';
import { compareToReference, loadReference } from '../../test/fixtures/reference/compare';
import { differenceInDifferences, DidPanelInput } from './difference-in-differences';

const reference = loadReference<DidPanelInput>('did');
const second = loadReference<DidPanelInput>('second_routes');
const cr2Cases = second.cases.filter((c) => (c as unknown as { method: string }).method === 'did_cr2');

describe('differenceInDifferences against did.json (statsmodels OLS cluster, scipy Welch)', () => {
  it.each(reference.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = differenceInDifferences(c.input);
    assertNoNonFinite(r);
    expect(compareToReference(r, c.expected, c.tolerance, { integerFields: ['ols.t_df'] })).toEqual([]);
  });
});

describe('CR2 with Bell–McCaffrey df against a second route (numpy full hat matrix, second_routes.json)', () => {
  it('has cases', () => expect(cr2Cases.length).toBe(6));
  it.each(cr2Cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = differenceInDifferences(c.input);
    expect(r.status).toBe('ok');
    const actual = { coef_did: r.ols.coef_did, ...r.cr2 };
    expect(compareToReference(actual, c.expected, c.tolerance)).toEqual([]);
  });

  it('for a balanced panel the CR2 SE equals the Welch SE of the territory change scores (Imbens & Kolesár 2016)', () => {
    for (const c of reference.cases.filter((x) => !x.name.startsWith('unbalanced'))) {
      const r = differenceInDifferences(c.input);
      const welchSe = Math.abs(r.territory_change_welch.effect! / r.territory_change_welch.t!);
      expect(Math.abs(r.cr2.se! - welchSe)).toBeLessThanOrEqual(1e-9 * welchSe);
    }
  });
});

describe('differenceInDifferences edge cases', () => {
  it('one territory per arm: insufficient_data, no NaN', () => {
    const r = differenceInDifferences({ territory: ['a', 'a', 'b', 'b'], period: [1, 2, 1, 2], treated: [1, 1, 0, 0], post: [0, 1, 0, 1], y: [1, 2, 3, 5] });
    expect(r.status).toBe('insufficient_data');
    expect(r.cr2.p_value).toBeNull();
    assertNoNonFinite(r);
  });
  it('rejects a duplicated territory-period row and a territory in both arms', () => {
    expect(() => differenceInDifferences({ territory: ['a', 'a'], period: [1, 1], treated: [1, 1], post: [0, 1], y: [1, 2] })).toThrow(RangeError);
    expect(() => differenceInDifferences({ territory: ['a', 'a'], period: [1, 2], treated: [1, 0], post: [0, 1], y: [1, 2] })).toThrow(RangeError);
  });
});
