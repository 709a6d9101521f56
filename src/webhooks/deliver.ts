/**
 * One HTTP attempt of one webhook delivery. Never throws: every outcome, including a refused URL, comes
 * back as a result for the outbox to record and for classifyResponse() to judge.
 *
 * node:http rather than global fetch, for one reason: fetch offers no way to connect to the addresses
 * the URL guard checked, so it would resolve the host a second time, and a DNS-rebinding receiver could
 * answer that second lookup with 169.254.169.254. Here the socket's `lookup` returns only the checked
 * addresses. Like fetch, node:http never follows redirects on its own, and the shared keep-alive agents
 * reuse connections across deliveries (no agent per call), which is what makes hundreds per second cheap.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isKycError } from '../domain/errors.ts';
import { assertWebhookUrl, resolveAll, type Resolver, type WebhookUrlPolicy } from '../lib/url-guard.ts';

export interface DeliveryRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  /** Whole attempt: DNS, connect, request and response. */
  timeoutMs: number;
  policy: WebhookUrlPolicy;
  /** Replaces the cached system resolver (tests). */
  resolve?: Resolver;
}

export interface DeliveryResult {
  status?: number;
  ok: boolean;
  durationMs: number;
  networkError?: boolean;
  timedOut?: boolean;
  error?: string;
  /** First KiB of the response body, for the delivery log. */
  responseSnippet?: string;
}

const SNIPPET_BYTES = 1024;
// Reading a little past the snippet lets small bodies end normally, which keeps the socket reusable;
// beyond this we stop paying for a chatty receiver and drop the connection.
const DRAIN_LIMIT_BYTES = 64 * 1024;

const agentOptions = { keepAlive: true, maxFreeSockets: 64, scheduling: 'lifo' as const };
const httpAgent = new http.Agent(agentOptions);
const httpsAgent = new https.Agent(agentOptions);

// Receivers are few and deliveries many: without a cache every delivery costs a getaddrinfo on libuv's
// 4-thread pool, which caps throughput well below 500/s when DNS is slow. 30 s bounds how stale a
// record can get; the guard still judges the cached addresses on every attempt.
const DNS_TTL_MS = 30_000;

/** A resolver that remembers answers for 30 s (failures are not remembered); one per dispatcher. */
export function createCachedResolver(resolve: Resolver = resolveAll): Resolver {
  const cache = new Map<string, { addresses: Promise<string[]>; expires: number }>();
  return (host: string) => {
    const now = Date.now();
    const hit = cache.get(host);
    if (hit && hit.expires > now) return hit.addresses;
    if (cache.size >= 10_000) cache.clear();
    const addresses = resolve(host);
    cache.set(host, { addresses, expires: now + DNS_TTL_MS });
    addresses.catch(() => {
      if (cache.get(host)?.addresses === addresses) cache.delete(host);
    });
    return addresses;
  };
}

function pinnedLookup(addresses: string[]): LookupFunction {
  const entries = addresses.map((address) => ({ address, family: isIP(address) }));
  return (_host, opts, cb) => {
    const family = opts.family === 'IPv4' ? 4 : opts.family === 'IPv6' ? 6 : opts.family;
    const wanted = family ? entries.filter((e) => e.family === family) : entries;
    if (wanted.length === 0) {
      cb(Object.assign(new Error(`no checked address of family ${family}`), { code: 'ENOTFOUND' }), '');
    } else if (opts.all) {
      cb(null, wanted);
    } else {
      cb(null, wanted[0].address, wanted[0].family);
    }
  };
}

export async function deliverWebhook(req: DeliveryRequest): Promise<DeliveryResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(resolve, req.timeoutMs, 'timeout');
  });
  try {
    let target: Awaited<ReturnType<typeof assertWebhookUrl>>;
    try {
      const checked = await Promise.race([assertWebhookUrl(req.url, req.policy, req.resolve ?? resolveAll), deadline]);
      if (checked === 'timeout') {
        return {
          ok: false,
          timedOut: true,
          durationMs: elapsed(),
          error: `DNS lookup timed out after ${req.timeoutMs} ms`,
        };
      }
      target = checked;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      // A DNS failure is usually transient; a forbidden address is a decision, and no request is made.
      const unresolvable = isKycError(e) && e.details?.reason === 'unresolvable';
      return {
        ok: false,
        durationMs: elapsed(),
        error: `refused: ${message}`,
        ...(unresolvable && { networkError: true }),
      };
    }
    return await post(target.url, target.addresses, req, deadline, elapsed);
  } catch (e) {
    return { ok: false, durationMs: elapsed(), error: `unexpected: ${e instanceof Error ? e.message : String(e)}` };
  } finally {
    clearTimeout(timer);
  }
}

function post(
  url: URL,
  addresses: string[],
  req: DeliveryRequest,
  deadline: Promise<'timeout'>,
  elapsed: () => number,
): Promise<DeliveryResult> {
  return new Promise((resolve) => {
    let settled = false;
    let res: http.IncomingMessage | undefined;
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let seenBytes = 0;

    const finish = (result: Omit<DeliveryResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      // not `{ ...result, durationMs }`: V8 11.3 allocates that in the old generation (initiate-batcher.ts)
      resolve(Object.assign(result, { durationMs: elapsed() }));
    };
    const finishWithResponse = (error?: string) => {
      const status = res!.statusCode!;
      const location = res!.headers.location;
      const redirect =
        status >= 300 && status < 400 ? `redirect${location ? ` to ${location}` : ''} not followed` : undefined;
      const err = [redirect, error].filter(Boolean).join('; ');
      finish({
        status,
        ok: status >= 200 && status < 300,
        responseSnippet: Buffer.concat(kept).toString('utf8'),
        ...(err && { error: err }),
      });
    };

    const client = url.protocol === 'https:' ? https : http;
    const request = client.request(url, {
      method: 'POST',
      agent: url.protocol === 'https:' ? httpsAgent : httpAgent,
      lookup: pinnedLookup(addresses),
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'kyclive-webhooks/1',
        ...req.headers,
        'Content-Length': String(Buffer.byteLength(req.body)),
      },
    });

    void deadline.then(() => {
      if (settled) return;
      if (res) finishWithResponse(`response body timed out after ${req.timeoutMs} ms`);
      else finish({ ok: false, timedOut: true, error: `timed out after ${req.timeoutMs} ms` });
      request.destroy();
    });

    request.on('response', (response) => {
      res = response;
      response.on('data', (chunk: Buffer) => {
        seenBytes += chunk.length;
        if (keptBytes < SNIPPET_BYTES) {
          const part = chunk.subarray(0, SNIPPET_BYTES - keptBytes);
          kept.push(part);
          keptBytes += part.length;
        }
        if (seenBytes > DRAIN_LIMIT_BYTES) {
          finishWithResponse();
          response.destroy();
        }
      });
      response.on('end', () => finishWithResponse());
      // Reached when the connection drops mid-body: the status is still the receiver's answer.
      response.on('close', () => finishWithResponse());
      response.on('error', () => {});
    });

    request.on('error', (err: NodeJS.ErrnoException) => {
      if (res) return finishWithResponse();
      finish({ ok: false, networkError: true, error: err.code ? `${err.code}: ${err.message}` : err.message });
    });

    request.end(req.body);
  });
}
