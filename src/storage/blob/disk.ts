/**
 * BlobStore on the local filesystem. The files hold ID documents and face videos, hence:
 * owner-only modes, keys that cannot escape the root, and writes that only ever become
 * visible whole (temp file in the same directory + rename, which is atomic on POSIX).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobStore, PutOptions } from '../../app/ports.ts';
import { KycError } from '../../domain/errors.ts';
import { assertBlobKey, assertMaxBytes, bodyChunks, payloadTooLarge } from './common.ts';

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

const isMissing = (e: unknown): boolean => {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
};

const notFound = (): KycError => new KycError('not_found', 'blob not found');

export function createDiskBlobStore(rootDir: string): BlobStore {
  const root = resolve(rootDir);

  const pathOf = (key: string): string => {
    assertBlobKey(key);
    const path = join(root, ...key.split('/'));
    // assertBlobKey already makes escaping impossible; this keeps it impossible if the key rules are ever loosened.
    if (!path.startsWith(root + sep)) throw new KycError('invalid_request', 'invalid blob key');
    return path;
  };

  return {
    async put(key: string, body: Buffer | Readable, opts: PutOptions = {}): Promise<{ bytes: number }> {
      const path = pathOf(key);
      const { maxBytes } = opts;
      assertMaxBytes(maxBytes);
      if (Buffer.isBuffer(body) && maxBytes !== undefined && body.length > maxBytes) throw payloadTooLarge(maxBytes);

      const dir = dirname(path);
      // mode only applies to directories created here; umask can only remove bits, never add group/other ones.
      await mkdir(dir, { recursive: true, mode: DIR_MODE });
      // Dot-prefixed: blob keys cannot start a segment with '.', so a temp file is never mistaken for a blob.
      const tmp = join(dir, `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
      // 'wx': never follow or reuse something already sitting at the temp name.
      let fh: FileHandle | undefined = await open(tmp, 'wx', FILE_MODE);
      let bytes = 0;
      try {
        for await (const chunk of bodyChunks(body)) {
          bytes += chunk.length;
          if (maxBytes !== undefined && bytes > maxBytes) throw payloadTooLarge(maxBytes);
          for (let off = 0; off < chunk.length; ) {
            const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
            off += bytesWritten;
          }
        }
        // Without the fsync a crash right after the rename can leave a committed name pointing at an empty file.
        await fh.sync();
        await fh.close();
        fh = undefined;
        await rename(tmp, path);
      } catch (err) {
        await fh?.close().catch(() => {});
        await unlink(tmp).catch(() => {});
        throw err;
      }
      await syncDir(dir);
      return { bytes };
    },

    async get(key: string): Promise<Readable> {
      const path = pathOf(key);
      let fh: FileHandle;
      try {
        fh = await open(path, 'r');
      } catch (e) {
        if (isMissing(e)) throw notFound();
        throw e;
      }
      try {
        // A directory opens fine on Linux; it is not a blob (it is the parent of other keys).
        if (!(await fh.stat()).isFile()) throw notFound();
      } catch (e) {
        await fh.close().catch(() => {});
        throw e;
      }
      return fh.createReadStream();
    },

    async delete(key: string): Promise<void> {
      const path = pathOf(key);
      try {
        await unlink(path);
      } catch (e) {
        if (isMissing(e)) return;
        // A directory (EISDIR on Linux, EPERM elsewhere) holds no blob under this key. Any other
        // EPERM is a real failure: silently keeping personal data we were asked to delete is not an option.
        const isDir = await stat(path).then(
          (st) => st.isDirectory(),
          () => false,
        );
        if (isDir) return;
        throw e;
      }
    },

    async exists(key: string): Promise<boolean> {
      const path = pathOf(key);
      try {
        return (await stat(path)).isFile();
      } catch (e) {
        if (isMissing(e)) return false;
        throw e;
      }
    },
  };
}

/** Makes the rename itself durable. Best effort: some filesystems refuse fsync on directories. */
async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // the data is written and renamed; only crash-durability of the name is at stake
  } finally {
    await fh?.close().catch(() => {});
  }
}
