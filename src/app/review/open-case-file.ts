/**
 * A file of a case, for staff: the synthesis report and key frames (artifacts), the capture videos
 * while they are kept, or a KYC review's documents. Streamed and decrypted from the blob store;
 * every opening is audited.
 */
import type { Readable } from 'node:stream';
import { KycError } from '../../domain/errors.ts';
import { can, type StaffPrincipal, worksFor } from '../../domain/review/staff.ts';
import { listMedia } from '../../storage/db/repo/capture.ts';
import { listArtifacts, listDocumentsOfUsers } from '../../storage/db/repo/documents.ts';
import { findCase } from '../../storage/db/repo/review-cases.ts';
import { listChildren } from '../../storage/db/repo/users.ts';
import { audit } from '../audit/audit.ts';
import type { AppDeps } from '../deps.ts';

const EXT: Record<string, string> = {
  'application/pdf': 'pdf',
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'video/webm': 'webm',
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
  'video/x-matroska': 'mkv',
};

export async function openCaseFile(
  deps: AppDeps,
  staff: StaffPrincipal,
  caseId: string,
  ref: string,
  ctx: { sourceIp?: string } = {},
): Promise<{ stream: Readable; contentType: string; fileName: string }> {
  if (!can(staff, 'view_cases')) throw new KycError('forbidden', 'Your role cannot see cases.');
  const c = await findCase(deps.db, caseId);
  if (!c || !worksFor(staff, c.clientId))
    throw new KycError('not_found', 'Review case not found.', { param: 'caseId' });
  const [type, id] = ref.split(':');
  let file: { blobKey: string; contentType: string; name: string } | undefined;
  if (type === 'artifact' && c.verificationId)
    file = (await listArtifacts(deps.db, c.verificationId)).find((a) => a.id === id);
  else if (type === 'media' && c.verificationId) {
    const m = (await listMedia(deps.db, c.verificationId)).find((x) => x.step === id);
    if (m) file = { blobKey: m.blobKey, contentType: m.contentType, name: m.step };
  } else if (type === 'document') {
    const children = await listChildren(deps.db, c.clientId, c.userId);
    const docs = await listDocumentsOfUsers(deps.db, c.clientId, [c.userId, ...children.map((x) => x.id)]);
    const d = docs.find((x) => String(x.id) === id);
    if (d) file = { blobKey: d.blobKey, contentType: d.contentType, name: d.name };
  }
  if (!file)
    throw new KycError('not_found', 'No such file in this case (capture videos are deleted after their retention).', {
      param: 'ref',
    });
  const stream = await deps.blobs.get(file.blobKey);
  await deps.db.transaction((tx) =>
    audit(tx, {
      at: deps.clock.now(),
      actorType: 'staff',
      actorId: staff.id,
      action: 'case.file',
      clientId: c.clientId,
      targetType: 'review_case',
      targetId: c.id,
      sourceIp: ctx.sourceIp,
      details: { ref },
    }),
  );
  const base = file.name.replace(/\.[a-z0-9]+$/i, '').replace(/[^A-Za-z0-9_-]/g, '_');
  return { stream, contentType: file.contentType, fileName: `${base}.${EXT[file.contentType] ?? 'bin'}` };
}
