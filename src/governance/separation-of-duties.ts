import type { EntityManager } from 'typeorm';
import { AppException } from '../common/errors/app.exception';

/** Why a key counts as an author of a pilot. */
export type AuthorshipKind = 'created' | 'edited' | 'drew_assignment' | 'proposed_amendment';

/** One author of a pilot: the key and what it did. */
export interface PilotAuthor {
  key_id: string;
  did: AuthorshipKind[];
}

/** Depth cap of the creator chain walk (a chain is a few keys deep; the cap only guards a corrupt cycle). */
const MAX_CHAIN_DEPTH = 64;

/**
 * The authors of a pilot: the key that created it, every key that edited its draft (audit
 * `pilot.updated`) and every key that drew its assignment (`assignment_draws`), in the caller's
 * transaction. `proposerKeyId`, when given, is added as `proposed_amendment`.
 * @returns authors sorted by key id; empty when the pilot was made without a key
 */
export async function pilotAuthors(em: EntityManager, pilotId: string, proposerKeyId?: string | null): Promise<PilotAuthor[]> {
  const rows: { key_id: string; did: AuthorshipKind }[] = await em.query(
    `SELECT author_key_id AS key_id, 'created' AS did FROM pilots WHERE id = $1 AND author_key_id IS NOT NULL
     UNION SELECT actor_key_id, 'edited' FROM audit_events WHERE pilot_id = $1 AND action = 'pilot.updated' AND actor_key_id IS NOT NULL
     UNION SELECT actor_key_id, 'drew_assignment' FROM assignment_draws WHERE pilot_id = $1 AND actor_key_id IS NOT NULL`,
    [pilotId],
  );
  if (proposerKeyId) rows.push({ key_id: proposerKeyId, did: 'proposed_amendment' });
  const byKey = new Map<string, Set<AuthorshipKind>>();
  for (const r of rows) byKey.set(r.key_id, (byKey.get(r.key_id) ?? new Set()).add(r.did));
  return [...byKey.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key_id, did]) => ({ key_id, did: [...did].sort() }));
}

/**
 * The creator chain of a key: the key itself (depth 0), the key that created it (1), that key's
 * creator (2) … up to a key made without one (the bootstrap key, or keys made before keys recorded
 * their creator). Read from `api_keys.created_by` with a recursive query.
 */
export async function creatorChain(em: EntityManager, keyId: string): Promise<{ id: string; depth: number }[]> {
  return em.query(
    `WITH RECURSIVE chain (id, created_by, depth) AS (
       SELECT id, created_by, 0 FROM api_keys WHERE id = $1
       UNION ALL
       SELECT k.id, k.created_by, c.depth + 1 FROM api_keys k JOIN chain c ON k.id = c.created_by WHERE c.depth < $2
     )
     SELECT DISTINCT ON (id) id, depth FROM chain ORDER BY id, depth`,
    [keyId, MAX_CHAIN_DEPTH],
  ).then((rows: { id: string; depth: number }[]) => rows.sort((a, b) => a.depth - b.depth));
}

/**
 * Separation of duties for an approval (of a pilot or of a plan amendment): the approving key must
 * not be an author of the pilot, nor a key that an author created, directly or through further
 * keys (an admin cannot approve through a second key of its own making). Checked in the caller's
 * transaction, so a concurrent edit cannot slip between the check and the approval.
 * @throws SEPARATION_OF_DUTIES (403) with `details.authors` (key ids and what each did) and
 *   `details.conflict` (the author found in the approver's creator chain and its depth: 0 = the
 *   approving key itself, 1 = its creator, …)
 */
export async function assertMayApprove(
  em: EntityManager,
  pilotId: string,
  approverKeyId: string,
  what: 'pilot' | 'amendment',
  proposerKeyId?: string | null,
): Promise<void> {
  const authors = await pilotAuthors(em, pilotId, proposerKeyId);
  if (authors.length === 0) return;
  const chain = await creatorChain(em, approverKeyId);
  const hit = chain.find((link) => authors.some((a) => a.key_id === link.id));
  if (!hit) return;
  const author = authors.find((a) => a.key_id === hit.id)!;
  const subject = what === 'pilot' ? 'this pilot' : 'this amendment';
  const message =
    hit.depth === 0
      ? `This key is an author of ${subject} (${author.did.join(', ')}); a key that neither created, edited, drew nor proposed it must approve`
      : `This key was created (${hit.depth === 1 ? 'directly' : `through ${hit.depth - 1} further key(s)`}) by an author of ${subject} (${author.did.join(', ')}); a key outside the authors' chain must approve`;
  throw new AppException('SEPARATION_OF_DUTIES', message, {
    approver_key_id: approverKeyId,
    conflict: { key_id: hit.id, depth: hit.depth, did: author.did },
    authors,
  });
}
