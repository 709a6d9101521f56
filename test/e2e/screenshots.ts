/** Keeps the committed screenshots small: palette PNGs (camera frames compress badly otherwise). */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

export async function shrinkScreenshots(dir: string) {
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.png'))) {
    const p = join(dir, f);
    const before = readFileSync(p);
    const after = await sharp(before).png({ palette: true, colours: 96, effort: 10, compressionLevel: 9 }).toBuffer();
    if (after.length < before.length) writeFileSync(p, after);
  }
}
