/** The capture session API as the browser uses it: JSON calls, the speed probe, resumable uploads. */

export interface Session {
  identificationId: string;
  state: string;
  acceptsUploads: boolean;
  method: 'liveness' | 'certified';
  challenges: { kind: string; windowSeconds: number }[];
  requiredSteps: string[];
  uploadedSteps: string[];
  via: 'link' | 'handoff';
  handoff: 'none' | 'pending' | 'claimed';
  handoffAvailable: boolean;
  redirectUrl: string | null;
  branding: { name: string; primaryColor: string; backgroundColor: string; textColor: string; logoUrl: string | null };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function createApi(token: string) {
  const base = `/capture/v1/sessions/${token}`;

  async function call<T>(method: string, path: string, body?: unknown, init: RequestInit = {}): Promise<T> {
    const r = await fetch(base + path, {
      method,
      cache: 'no-store',
      ...init,
      headers: body === undefined ? init.headers : { 'content-type': 'application/json', ...(init.headers ?? {}) },
      body: body === undefined ? init.body : JSON.stringify(body),
    });
    const text = await r.text();
    const json = text ? JSON.parse(text) : undefined;
    if (!r.ok) {
      const e = json?.errors?.[0] ?? {};
      throw new ApiError(r.status, e.code ?? 'http_error', e.message ?? `HTTP ${r.status}`, e.details);
    }
    return json as T;
  }

  return {
    session: () => call<Session>('GET', ''),
    progress: () => call<Pick<Session, 'state' | 'handoff' | 'uploadedSteps' | 'redirectUrl'>>('GET', '/progress'),
    complete: (body: unknown) => call<{ redirectUrl: string }>('POST', '/complete', body),
    // keepalive: an abort sent while the tab is being hidden must still reach the server.
    abort: (returnReason: string, errorType: string, metadata: unknown) =>
      call<{ redirectUrl: string }>('POST', '/abort', { returnReason, errorType, metadata }, { keepalive: true }),
    handoff: () => call<{ url: string; expiresAt: string; qrSvg: string }>('POST', '/handoff'),

    /** Times an upload of `bytes` random-ish bytes; resolves with Mbps and ms. */
    async probe(bytes = 256 * 1024): Promise<{ mbps: number; ms: number }> {
      const buf = new Uint8Array(bytes);
      crypto.getRandomValues(buf.subarray(0, Math.min(bytes, 65536)));
      const t0 = performance.now();
      await call('POST', '/probe', undefined, { body: buf, headers: { 'content-type': 'application/octet-stream' } });
      const ms = Math.max(1, performance.now() - t0);
      return { mbps: (bytes * 8) / 1000 / ms, ms: Math.round(ms) };
    },

    /**
     * Sends a recording in chunks. On a failed chunk it asks the server for the offset it holds
     * and resumes from there; it gives up after `maxRetries` consecutive failures.
     */
    async upload(
      step: string,
      blob: Blob,
      opts: { onProgress?: (f: number) => void; onRetry?: () => void; maxRetries?: number } = {},
    ) {
      const contentType = blob.type.split(';')[0] || 'video/webm';
      const maxRetries = opts.maxRetries ?? 4;
      let failures = 0;
      const retry = async (e: unknown) => {
        if (
          e instanceof ApiError &&
          e.status >= 400 &&
          e.status < 500 &&
          e.status !== 409 &&
          e.status !== 408 &&
          e.status !== 429
        )
          throw e;
        if (++failures > maxRetries) throw e;
        opts.onRetry?.();
        await new Promise((r) => setTimeout(r, Math.min(8000, 500 * 2 ** failures)));
      };
      let u: { uploadId: string; offset: number; chunkMaxBytes: number } | undefined;
      while (!u) {
        try {
          u = await call('POST', '/uploads', { step, contentType, size: blob.size });
        } catch (e) {
          await retry(e);
        }
      }
      const chunk = Math.min(u.chunkMaxBytes, 512 * 1024);
      let offset = 0;
      for (;;) {
        try {
          const end = Math.min(blob.size, offset + chunk);
          const r = await call<{ offset: number; complete: boolean }>('PATCH', `/uploads/${u.uploadId}`, undefined, {
            body: blob.slice(offset, end),
            headers: { 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' },
          });
          offset = r.offset;
          failures = 0;
          opts.onProgress?.(offset / blob.size);
          if (r.complete) return;
        } catch (e) {
          await retry(e);
          // Where did the server get to? (the chunk may have arrived and only the answer was lost)
          try {
            const s = await call<{ offset: number; complete: boolean }>('GET', `/uploads/${u.uploadId}`);
            if (s.complete) return;
            offset = s.offset;
          } catch {
            /* next attempt asks again */
          }
        }
      }
    },
  };
}

export type Api = ReturnType<typeof createApi>;
