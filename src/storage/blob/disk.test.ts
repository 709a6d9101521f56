import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { isKycError } from '../../domain/errors.ts';
import { createDiskBlobStore } from './disk.ts';

const dirs: string[] = [];
const tempRoot = async (): Promise<string> => {
  const d = await mkdtemp(join(tmpdir(), 'kyclive-disk-'));
  dirs.push(d);
  return d;
};
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const readAll = async (s: Readable): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};
const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;

describe('disk blob store', () => {
  it('creates owner-only files and directories, including a missing root', async () => {
    const parent = await tempRoot();
    const root = join(parent, 'blobs');
    const store = createDiskBlobStore(root);
    await store.put('v1/documents/front.jpg', Buffer.from('jpeg'));
    assert.equal(await mode(root), 0o700);
    assert.equal(await mode(join(root, 'v1')), 0o700);
    assert.equal(await mode(join(root, 'v1/documents')), 0o700);
    assert.equal(await mode(join(root, 'v1/documents/front.jpg')), 0o600);
    assert.equal(await readFile(join(root, 'v1/documents/front.jpg'), 'utf8'), 'jpeg');
    await store.put('v1/documents/front.jpg', Buffer.from('again'));
    assert.equal(await mode(join(root, 'v1/documents/front.jpg')), 0o600);
  });

  it('never shows a partial upload under the key', async () => {
    const root = await tempRoot();
    const store = createDiskBlobStore(root);
    const body = new PassThrough();
    const done = store.put('v/face.webm', body);
    body.write(randomBytes(100_000));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await store.exists('v/face.webm'), false);
    const names = await readdir(join(root, 'v'));
    assert.equal(names.length, 1);
    assert.ok(names[0].startsWith('.'), 'in-progress data lives in a dot-named temp file');
    body.end(randomBytes(10));
    assert.deepEqual(await done, { bytes: 100_010 });
    assert.deepEqual(await readdir(join(root, 'v')), ['face.webm']);
  });

  it('a reader keeps the version it opened while the key is overwritten', async () => {
    const store = createDiskBlobStore(await tempRoot());
    const first = randomBytes(300_000);
    await store.put('k', first);
    const reading = await store.get('k');
    await store.put('k', Buffer.from('second'));
    assert.ok((await readAll(reading)).equals(first));
    assert.equal((await readAll(await store.get('k'))).toString(), 'second');
  });

  it('concurrent writers to one key: one complete version wins, no temp file is left', async () => {
    const root = await tempRoot();
    const store = createDiskBlobStore(root);
    const versions = Array.from({ length: 6 }, (_, i) => Buffer.alloc(200_000 + i, i));
    await Promise.all(
      versions.map((v) =>
        store.put('race/blob', Readable.from([v.subarray(0, 1000), v.subarray(1000)], { objectMode: false })),
      ),
    );
    const got = await readAll(await store.get('race/blob'));
    assert.ok(versions.some((v) => v.equals(got)));
    assert.deepEqual(await readdir(join(root, 'race')), ['blob']);
  });

  it('treats a directory as no blob', async () => {
    const root = await tempRoot();
    const store = createDiskBlobStore(root);
    await store.put('a/b', Buffer.from('x'));
    assert.equal(await store.exists('a'), false);
    await assert.rejects(store.get('a'), (e: unknown) => isKycError(e) && e.code === 'not_found');
    await store.delete('a');
    assert.equal(await store.exists('a/b'), true);
    // A path through a file is just as absent.
    assert.equal(await store.exists('a/b/c'), false);
    await assert.rejects(store.get('a/b/c'), (e: unknown) => isKycError(e) && e.code === 'not_found');
    await store.delete('a/b/c');
  });

  it('stays inside its root', async () => {
    const parent = await tempRoot();
    await mkdir(join(parent, 'root'));
    const store = createDiskBlobStore(join(parent, 'root'));
    await assert.rejects(
      store.put('../escape', Buffer.from('x')),
      (e: unknown) => isKycError(e) && e.code === 'invalid_request',
    );
    assert.deepEqual(await readdir(parent), ['root']);
  });
});
