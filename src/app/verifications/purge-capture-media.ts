import { TERMINAL_STATES } from '../../domain/verification/states.ts';
import { deleteChunks, deleteMedia, listEndedMedia, listOrphanChunks } from '../../storage/db/repo/capture.ts';
import type { AppDeps } from '../deps.ts';

/**
 * Data minimisation. Raw media: the raw capture media (document and face videos) of a finished
 * verification are deleted mediaRetentionDays after it finished. What the integrator imported (the
 * report and the document captures, separate blobs) is kept; the media's SHA-256 stays in the
 * report and the evidence. Also drops the chunks of unfinished resumable uploads of ended
 * verifications. Blobs go first, then the rows, so a crash in between leaves rows whose blob is
 * gone (retried harmlessly: delete is idempotent), never a blob nothing points to.
 */
export async function purgeCaptureMedia(deps: AppDeps, limit = 500): Promise<number> {
  const cutoff = new Date(deps.clock.now().getTime() - deps.config.mediaRetentionDays * 24 * 3600 * 1000);
  const media = await listEndedMedia(deps.db, [...TERMINAL_STATES], cutoff, limit);
  for (const m of media) await deps.blobs.delete(m.blobKey);
  await deleteMedia(
    deps.db,
    media.map((m) => m.id),
  );
  // Chunks of uploads that never finished, for verifications that ended: useless at once.
  const chunks = await listOrphanChunks(deps.db, [...TERMINAL_STATES], limit);
  for (const c of chunks) await deps.blobs.delete(c.blobKey);
  await deleteChunks(deps.db, chunks);
  return media.length + chunks.length;
}
