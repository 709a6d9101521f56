/**
 * `kyclive analyze --document FILE [--document FILE] --face FILE [--method liveness|certified]
 *   [--challenges JSON] [--expect JSON] [--metadata JSON] [--report FILE] [--now YYYY-MM-DD] --json`
 * Prints the full result as ONE JSON object on stdout (no PDF bytes; --report writes the PDF).
 * The first --document is the front, the second the back. Exit code 0 when a verdict was produced,
 * 2 on usage errors, 1 on internal errors.
 */
import { type CaptureMetadata, parseCaptureMetadata } from '../domain/capture-metadata.ts';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import type { AnalysisInput, AnalysisMedia, Challenge, ExpectedIdentity } from '../app/ports.ts';
import { createEngine } from './engine.ts';
import { REASON_MESSAGES } from './policy.ts';

const USAGE =
  'usage: kyclive analyze --document FILE [--document FILE] --face FILE [--method liveness|certified] [--challenges JSON] [--expect \'{"firstname":…,"lastname":…,"birthday":"YYYY-MM-DD"}\'] [--metadata JSON] [--report FILE] [--now YYYY-MM-DD] --json';

const CT: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mov': 'video/quicktime',
  '.mkv': 'video/x-matroska',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
};

export interface ParsedArgs {
  documents: string[];
  face?: string;
  method: 'liveness' | 'certified';
  challenges: Challenge[];
  expected?: ExpectedIdentity;
  metadata: CaptureMetadata;
  report?: string;
  now?: string;
  json: boolean;
}

export function parseAnalyzeArgs(argv: string[]): ParsedArgs {
  const a = argv[0] === 'analyze' ? argv.slice(1) : argv.slice();
  const out: ParsedArgs = { documents: [], method: 'liveness', challenges: [], metadata: {}, json: false };
  for (let i = 0; i < a.length; i++) {
    const k = a[i];
    const v = () => {
      const x = a[++i];
      if (x === undefined) throw new Error(`missing value for ${k}`);
      return x;
    };
    switch (k) {
      case '--document':
        out.documents.push(v());
        break;
      case '--face':
        out.face = v();
        break;
      case '--method': {
        const m = v();
        if (m !== 'liveness' && m !== 'certified') throw new Error('--method must be liveness or certified');
        out.method = m;
        break;
      }
      case '--challenges': {
        const j = JSON.parse(v()) as unknown;
        if (!Array.isArray(j)) throw new Error('--challenges must be a JSON array');
        out.challenges = j.map((c) => (typeof c === 'string' ? { kind: c, windowSeconds: 5 } : c)) as Challenge[];
        break;
      }
      case '--expect': {
        const j = JSON.parse(v()) as ExpectedIdentity;
        if (!j || typeof j.firstname !== 'string' || typeof j.lastname !== 'string' || typeof j.birthday !== 'string')
          throw new Error('--expect needs firstname, lastname, birthday');
        out.expected = j;
        break;
      }
      case '--metadata':
        out.metadata = parseCaptureMetadata(JSON.parse(v()));
        break;
      case '--report':
        out.report = v();
        break;
      case '--now':
        out.now = v();
        break;
      case '--json':
        out.json = true;
        break;
      case '-h':
      case '--help':
        throw new Error('help');
      default:
        throw new Error(`unknown argument ${k}`);
    }
  }
  if (!out.documents.length) throw new Error('--document is required');
  if (!out.face) throw new Error('--face is required');
  if (out.documents.length > 2) throw new Error('at most two --document (front, back)');
  for (const f of [...out.documents, out.face]) if (!existsSync(f)) throw new Error(`file not found: ${f}`);
  return out;
}

export async function runAnalyzeCli(
  argv: string[],
  io: { stdout?: (s: string) => void; stderr?: (s: string) => void } = {},
): Promise<number> {
  const stdout = io.stdout ?? ((s: string) => process.stdout.write(s));
  const stderr = io.stderr ?? ((s: string) => process.stderr.write(s));
  let args: ParsedArgs;
  try {
    args = parseAnalyzeArgs(argv);
  } catch (e) {
    stderr(`${(e as Error).message === 'help' ? '' : `error: ${(e as Error).message}\n`}${USAGE}\n`);
    return (e as Error).message === 'help' ? 0 : 2;
  }
  const media: AnalysisMedia[] = [
    ...args.documents.map((p, i) => ({
      p,
      step: (i === 0 ? 'document_front' : 'document_back') as AnalysisMedia['step'],
    })),
    { p: args.face!, step: 'face' as const },
  ].map(({ p, step }) => ({
    path: resolve(p),
    step,
    contentType: CT[extname(p).toLowerCase()] ?? 'application/octet-stream',
    sha256: createHash('sha256').update(readFileSync(p)).digest('hex'),
  }));
  const input: AnalysisInput = {
    verificationId: `cli-${Date.now()}`,
    method: args.method,
    media,
    challenges: args.challenges,
    metadata: args.metadata,
    expected: args.expected,
  };
  let engine: Awaited<ReturnType<typeof createEngine>> | undefined;
  try {
    engine = await createEngine(args.now ? { now: () => new Date(`${args.now}T12:00:00Z`) } : {});
    const r = await engine.analyze(input);
    if (args.report) writeFileSync(args.report, r.report.pdf);
    const out = {
      verdict: r.score === 1 ? 'valid' : r.score === 0 ? 'refused' : 'review',
      score: r.score,
      comment: r.comment,
      reasons: r.reasons.map((code) => ({ code, message: REASON_MESSAGES[code] ?? String(code) })),
      extracted: r.extracted ?? null,
      report: { sha256: r.report.sha256, bytes: r.report.pdf.length, path: args.report ? resolve(args.report) : null },
      keyFrames: (r.keyFrames ?? []).map((k) => ({ step: k.step, bytes: k.jpeg.length })),
      evidence: r.evidence,
    };
    stdout(JSON.stringify(out, null, args.json ? 0 : 2) + '\n');
    return 0;
  } catch (e) {
    stderr(`error: ${(e as Error).stack ?? e}\n`);
    return 1;
  } finally {
    await engine?.close();
  }
}

// Direct use: tsx src/engine/cli.ts analyze …
if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  runAnalyzeCli(process.argv.slice(2)).then((c) => {
    process.exitCode = c;
  });
}
