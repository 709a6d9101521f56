/**
 * Writes an audit entry inside the caller's transaction (it commits with what it records). Entries
 * carry ids, never personal data: who (staff, API client or the system), what, on which tenant and
 * object, from where, and before/after of what changed.
 */
import { type AuditEntry, appendAudit } from '../../storage/db/repo/audit.ts';
import type { Queryable } from '../ports.ts';

export type AuditInput = Omit<
  AuditEntry,
  'details' | 'clientId' | 'targetType' | 'targetId' | 'sourceIp' | 'actorId'
> & {
  actorId?: string | null;
  clientId?: string | null;
  targetType?: string | null;
  targetId?: string | null;
  sourceIp?: string | null;
  details?: Record<string, unknown>;
};

export async function audit(q: Queryable, e: AuditInput): Promise<void> {
  await appendAudit(q, {
    at: e.at,
    actorType: e.actorType,
    actorId: e.actorId ?? null,
    action: e.action,
    clientId: e.clientId ?? null,
    targetType: e.targetType ?? null,
    targetId: e.targetId ?? null,
    sourceIp: e.sourceIp ?? null,
    details: e.details ?? {},
  });
}
