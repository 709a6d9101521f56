/**
 * The verdict fails closed one check at a time (issue 25, item 1): a check or a whole half of the
 * analysis that throws is that check's "undecided", and never the loss of the other checks. These
 * sessions carry no media, so every check that can run fails: the verdict must stay a refusal.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CaptureMetadata } from '../../src/app/ports.ts';
import { assembleResult, type EngineInfo } from '../../src/engine/assemble.ts';
import { resolveEngineConfig } from '../../src/engine/config.ts';
import type { DocumentPart, FacePart, PartInput } from '../../src/engine/parts.ts';

const cfg = resolveEngineConfig({ now: () => new Date('2026-12-07T12:00:00Z') });
const info: EngineInfo = { name: 'test', version: '0', modelLoadMs: 0, models: [] };
const noFace: FacePart = { media: [], obs: [], timings: {} };
const noDocument: DocumentPart = { media: [], docs: [], timings: {} };
const input = (metadata: unknown): PartInput => ({
  verificationId: 'v-test',
  method: 'liveness',
  media: [],
  challenges: [],
  metadata: metadata as CaptureMetadata,
});
const check = (r: Awaited<ReturnType<typeof assembleResult>>, name: string) =>
  (r.evidence.checks as { name: string; status: string; error?: string }[]).find((c) => c.name === name);

test('a check that throws is undecided, and the refusals found by the others stand', async () => {
  // A number where the camera label belongs made the device check throw; the whole session used to
  // become score -1 / 1901 with no other check run.
  const r = await assembleResult(cfg, info, input({ cameraLabel: 1 }), noFace, noDocument, { startedAt: 0 });
  assert.equal(check(r, 'device.integrity')?.status, 'inconclusive');
  assert.match(check(r, 'device.integrity')?.error ?? '', /toLowerCase/);
  assert.equal(r.score, 0);
  assert.deepEqual(r.reasons, [1302, 1311]);
  assert.ok(check(r, 'capture.playable'), 'the other capture checks ran');
});

test('a half of the analysis that fails leaves the other half to decide', async () => {
  const r = await assembleResult(cfg, info, input({}), { error: 'face engine crashed' }, noDocument, { startedAt: 0 });
  assert.equal(check(r, 'face.analysis')?.status, 'inconclusive');
  assert.equal(r.score, 0, 'the missing document is still a refusal');
  assert.deepEqual(r.reasons, [1302]);
  assert.deepEqual(r.evidence.errors, [{ check: 'face.analysis', message: 'face engine crashed' }]);
});

test('with nothing refused, a check that could not run sends the session to review with 1901', async () => {
  const r = await assembleResult(
    cfg,
    info,
    input({}),
    { error: 'face engine crashed' },
    { error: 'out of memory' },
    {
      startedAt: 0,
    },
  );
  assert.equal(r.score, -1);
  assert.deepEqual(r.reasons, [1901]);
  assert.match(r.comment, /could not run face\.analysis, document\.analysis/);
});
