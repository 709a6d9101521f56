import type { AppDeps } from '../deps.ts';

/**
 * Data minimisation. Also drops the chunks of unfinished resumable uploads of ended verifications.
 * Raw media: the raw capture media (document and face videos) of a finished verification
 * are deleted mediaRetentionDays after it finished. What the integrator imported (the report and
 * the document captures, separate blobs) is kept; the media's SHA-256 stays in the report and the
 * evidence. Blobs go first, then the rows, so a crash in between leaves rows whose blob is gone
 * (retried harmlessly: delete is idempotent), never a blob nothing points to.
 */
export async function purgeCaptureMedia(deps: AppDeps, limit = 500): Promise<number> {
  const cutoff = new Date(deps.clock.now().getTime() - deps.config.mediaRetentionDays * 24 * 3600 * 1000);
  const r = await deps.db.query<{ id: string; blob_key: string }>(
    `select m.id, m.blob_key from capture_media m join verifications v on v.id = m.verification_id
      where v.state in ('processed', 'aborted', 'expired', 'superseded') and v.updated_at < $1
      order by v.updated_at limit $2`,
    [cutoff, limit],
  );
  for (const m of r.rows) await deps.blobs.delete(m.blob_key);
  if (r.rows.length)
    await deps.db.query('delete from capture_media where id = any($1::uuid[])', [r.rows.map((m) => m.id)]);
  return r.rows.length + (await purgeOrphanChunks(deps, limit));
}

/** Chunks of uploads that never finished, for verifications that ended: useless at once. */
async function purgeOrphanChunks(deps: AppDeps, limit: number): Promise<number> {
  const r = await deps.db.query<{ upload_id: string; start_offset: number; blob_key: string }>(
    `select c.upload_id, c.start_offset, c.blob_key from capture_upload_chunks c
       join capture_uploads u on u.id = c.upload_id join verifications v on v.id = u.verification_id
      where u.completed_at is null and v.state in ('processed', 'aborted', 'expired', 'superseded') limit $1`,
    [limit],
  );
  for (const c of r.rows) await deps.blobs.delete(c.blob_key);
  if (r.rows.length) {
    await deps.db.query(
      `delete from capture_upload_chunks c using unnest($1::uuid[], $2::bigint[]) as d(upload_id, start_offset)
        where c.upload_id = d.upload_id and c.start_offset = d.start_offset`,
      [r.rows.map((c) => c.upload_id), r.rows.map((c) => c.start_offset)],
    );
  }
  return r.rows.length;
}
