/**
 * The case page: everything a reviewer weighs, on one screen. The verification's checks with their
 * measurements and thresholds, the declared identity against the document's, the challenge
 * timeline, the capture metadata, the files, the user's earlier verifications, and the repeat-fraud
 * signals: the same document number, or the same face, already seen on another user of any of the
 * staff member's tenants. Opening it is audited (it shows personal data).
 */
import { toTreezorDocument } from '../../domain/document.ts';
import { KycError } from '../../domain/errors.ts';
import { compareIdentity } from '../../domain/review/identity.ts';
import { checklistFor } from '../../domain/review/review-case.ts';
import { can, type StaffPrincipal, worksFor } from '../../domain/review/staff.ts';
import { toTreezorUser } from '../../domain/user.ts';
import { listMedia } from '../../storage/db/repo/capture.ts';
import { findClient } from '../../storage/db/repo/clients.ts';
import { listArtifacts, listDocumentsOfUsers } from '../../storage/db/repo/documents.ts';
import {
  findCase,
  findUsersWithDocumentNumber,
  listSealedFaceDescriptors,
  listVerificationsOfUser,
} from '../../storage/db/repo/review-cases.ts';
import { findStaff } from '../../storage/db/repo/staff.ts';
import { findUser, listChildren } from '../../storage/db/repo/users.ts';
import { findById, type Verification } from '../../storage/db/repo/verifications.ts';
import { audit } from '../audit/audit.ts';
import type { AppDeps } from '../deps.ts';
import { euclidean, openFaceDescriptor } from './face-descriptor.ts';

/** How many other faces a case page compares its face with (the newest ones). */
const FACE_CANDIDATES = 5000;

/** The challenge script on the face video's timeline: when each was shown, in seconds into the video. */
function challengeTimeline(v: Verification) {
  const m = v.captureMetadata;
  const start = m.faceRecordingStartedAt;
  return v.challenges.map((c, i) => ({
    kind: c.kind,
    windowSeconds: c.windowSeconds,
    shownAtSeconds:
      start !== undefined && m.challengeShownAt?.[i] !== undefined ? (m.challengeShownAt[i] - start) / 1000 : null,
    doneAtSeconds:
      start !== undefined && m.challengeDoneAt?.[i] !== undefined ? (m.challengeDoneAt[i] - start) / 1000 : null,
  }));
}

export async function getReviewCase(
  deps: AppDeps,
  staff: StaffPrincipal,
  caseId: string,
  ctx: { sourceIp?: string } = {},
): Promise<Record<string, unknown>> {
  if (!can(staff, 'view_cases')) throw new KycError('forbidden', 'Your role cannot see cases.');
  const db = deps.db;
  const c = await findCase(db, caseId);
  if (!c || !worksFor(staff, c.clientId))
    throw new KycError('not_found', 'Review case not found.', { param: 'caseId' });
  const now = deps.clock.now();
  const user = (await findUser(db, c.clientId, c.userId))!;
  const client = await findClient(db, c.clientId);
  const people = async (id: string | null | undefined) => {
    if (!id) return null;
    const s = await findStaff(db, id);
    return s ? { id: s.id, name: s.name, email: s.email } : { id, name: id, email: '' };
  };
  const out: Record<string, unknown> = {
    case: {
      id: c.id,
      kind: c.kind,
      state: c.state,
      queueReason: c.queueReason,
      method: c.method,
      fourEyes: c.fourEyes,
      assignee: await people(c.assignee),
      assignedAt: c.assignedAt,
      proposal: c.proposal ? { ...c.proposal, by: await people(c.proposal.by) } : null,
      decision: c.decision
        ? { ...c.decision, by: await people(c.decision.by), checkedBy: await people(c.decision.checkedBy) }
        : null,
      recommendation: c.recommendation,
      openedAt: c.openedAt,
      dueAt: c.dueAt,
      overdue: (c.state === 'open' || c.state === 'pending_check') && c.dueAt.getTime() < now.getTime(),
      closedAt: c.closedAt,
      checklist: checklistFor(c),
    },
    tenant: { clientId: c.clientId, name: client?.name ?? c.clientId },
    user: toTreezorUser(user),
    history: (await listVerificationsOfUser(db, c.clientId, c.userId)).filter((h) => h.id !== c.verificationId),
  };
  if (c.kind === 'verification') {
    const v = (await findById(db, c.verificationId!))!;
    const analysis = (v.analysis ?? {}) as {
      evidence?: Record<string, unknown>;
      extracted?: Record<string, string> | null;
      automated?: unknown;
      faceDescriptor?: string;
    };
    const evidence = analysis.evidence ?? {};
    const extracted = analysis.extracted ?? null;
    out.verification = {
      id: v.id,
      state: v.state,
      method: v.method,
      simulated: v.simulated,
      createdAt: v.createdAt,
      startedAt: v.startedAt,
      completedAt: v.completedAt,
      documentType: v.documentType,
      documentCountry: v.documentCountry,
      captureMetadata: v.captureMetadata,
      challenges: challengeTimeline(v),
      checks: evidence.checks ?? [],
      faceMatch: evidence.faceMatch ?? null,
      mrz: evidence.mrz ?? null,
      media: evidence.media ?? [],
      extracted,
      identity: compareIdentity(user.fields, extracted),
      automated: analysis.automated ?? null,
      files: [
        ...(await listArtifacts(db, v.id)).map((a) => ({
          ref: `artifact:${a.id}`,
          kind: a.kind,
          name: a.name,
          contentType: a.contentType,
          bytes: a.bytes,
        })),
        ...(await listMedia(db, v.id)).map((m) => ({
          ref: `media:${m.step}`,
          kind: m.step,
          name: m.step,
          contentType: m.contentType,
          bytes: null,
        })),
      ],
    };
    const duplicates: Record<string, unknown[]> = { documentNumber: [], face: [] };
    if (extracted?.documentNumber)
      duplicates.documentNumber = (
        await findUsersWithDocumentNumber(db, staff.tenants, extracted.documentNumber, c.userId)
      ).map((d) => ({ ...d, documentNumber: extracted.documentNumber }));
    const mine = openFaceDescriptor(deps.config.secret, analysis.faceDescriptor);
    const threshold = (evidence.thresholds as { faceMatchAcceptDistance?: number } | undefined)
      ?.faceMatchAcceptDistance;
    if (mine && typeof threshold === 'number') {
      for (const other of await listSealedFaceDescriptors(db, staff.tenants, c.userId, FACE_CANDIDATES)) {
        const d = openFaceDescriptor(deps.config.secret, other.sealed);
        if (!d) continue;
        const distance = euclidean(mine, d);
        if (distance < threshold)
          duplicates.face.push({
            clientId: other.clientId,
            userId: other.userId,
            verificationId: other.verificationId,
            caseId: other.caseId,
            distance: Math.round(distance * 1000) / 1000,
            threshold,
          });
      }
    }
    out.duplicates = duplicates;
  } else {
    const children = await listChildren(db, c.clientId, c.userId);
    out.children = children.map(toTreezorUser);
    out.documents = (await listDocumentsOfUsers(db, c.clientId, [c.userId, ...children.map((x) => x.id)])).map(
      toTreezorDocument,
    );
  }
  await db.transaction((tx) =>
    audit(tx, {
      at: now,
      actorType: 'staff',
      actorId: staff.id,
      action: 'case.view',
      clientId: c.clientId,
      targetType: 'review_case',
      targetId: c.id,
      sourceIp: ctx.sourceIp,
    }),
  );
  return out;
}
