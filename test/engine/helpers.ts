/** Shared helpers for the engine tests: corpus location (skip when absent) and temp dirs. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** The labelled corpus: $KYCLIVE_MEDIA_DIR or ../shared/media from the repo root. */
export function corpusDir(): string | null {
  const d = process.env.KYCLIVE_MEDIA_DIR ?? resolve(REPO_ROOT, '..', 'shared', 'media');
  return existsSync(join(d, 'labels.json')) ? d : null;
}

export const CORPUS_SKIP = corpusDir()
  ? false
  : 'corpus not found: set KYCLIVE_MEDIA_DIR or place it at ../shared/media (see test/engine/README note in src/engine/README.md)';

export const OCRB_FONT = '/usr/share/fonts/opentype/ocr-b/OCRB.otf';
export const FONT_SKIP = existsSync(OCRB_FONT) ? false : 'OCR-B font missing: apt-get install -y fonts-ocr-b';

export function labels(): {
  documents: {
    file: string;
    mrz_lines: string[];
    mrz_format: string;
    fields: Record<string, string | null>;
    mrz_check_digits_valid: boolean | null;
  }[];
} {
  return JSON.parse(readFileSync(join(corpusDir()!, 'labels.json'), 'utf8'));
}

export function tempDir(prefix = 'kyclive-engine-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
