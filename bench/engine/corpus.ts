/** Locates the labelled corpus (../shared/media from the repo root, or KYCLIVE_MEDIA_DIR). */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export function mediaDir(): string | null {
  const d = process.env.KYCLIVE_MEDIA_DIR ?? resolve(REPO_ROOT, '..', 'shared', 'media');
  return existsSync(join(d, 'labels.json')) ? d : null;
}

export interface Labels {
  documents: {
    file: string;
    kind: string;
    country: string | null;
    sides: string | null;
    mrz_format: string;
    mrz_lines: string[];
    fields: Record<string, string | null>;
    mrz_check_digits_valid: boolean | null;
    mrz_lines_partial?: boolean;
    has_portrait_photo: boolean;
  }[];
  faces_video: {
    file: string;
    head_turns_left_right: boolean;
    nods_up_down: boolean;
    blinks_seen: boolean | string;
    max_turn_estimate: string;
  }[];
  spoofs: { file: string; attack: string }[];
  pairs: { a: string; b: string; same: boolean; note?: string }[];
  face_pairs: { file: string; person: string; faces_in_image: number }[];
}

export function loadLabels(dir: string): Labels {
  return JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')) as Labels;
}
