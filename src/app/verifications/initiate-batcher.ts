/**
 * Group commit for POST kycliveness. Requests that arrive together share one statement that checks
 * their users, supersedes the users' unfinished verifications and inserts the new ones: PGlite
 * spends ~0.4–1.2 ms per statement whatever its size, plus a round trip to its thread, and
 * PostgreSQL saves round trips and WAL flushes. At low load a batch is one request and nothing
 * waits: a flush starts on the next macrotask.
 */
import { randomUUID } from 'node:crypto';
import { KycError } from '../../domain/errors.ts';
import { SUPERSEDABLE_STATES } from '../../domain/verification/states.ts';
import { randomTokens, sha256Hex } from '../../lib/secrets.ts';
import { storeLivenessMissing } from '../../storage/db/repo/users.ts';
import type { AppDeps } from '../deps.ts';
import type { Challenge } from '../ports.ts';

export interface Initiated {
  identificationId: string;
  identificationUrl: string;
}

/** One row of INITIATE_SQL's $1. Each carries its own clock reading: the embedded database's
 * thread may run the batches of several flushes as one statement (Db.preparedBatch). */
export interface InitiateRecord {
  id: string;
  client_id: string;
  user_id: number;
  token_hash: string;
  redirect_url: string | null;
  challenges: Challenge[];
  /** the request of the same user that follows this one in the batch, which supersedes it */
  next_id: string | null;
  /** the user's first request in the batch: it supersedes the user's live verification */
  first: boolean;
  /** seconds since the epoch, with milliseconds: the statement reads a number faster than a timestamp's text */
  at: number;
  expires_at: number;
}

export interface InitiateRequest {
  clientId: string;
  userId: number;
  redirectUrl?: string;
}

interface Pending extends InitiateRequest {
  resolve(v: Initiated): void;
  reject(e: unknown): void;
  /** flushes this request went through without its user's liveness_missing being known */
  rounds: number;
}

const MAX_BATCH = 200;
const MAX_ROUNDS = 3;

const precondition = (missing: string[]) =>
  new KycError('precondition_required', `The user must have ${missing.join(', ')} set before a live verification.`, {
    param: missing[0],
    details: { missingFields: missing },
  });

// The supersedable states are written into the SQL rather than passed as a parameter: they are
// constants of the domain, and the planner estimates a literal list better than `= any($n)`.
const LIVE_STATES = [...SUPERSEDABLE_STATES]
  .map((s) => {
    if (!/^[a-z_]+$/.test(s)) throw new Error(`unexpected state name ${s}`);
    return `'${s}'`;
  })
  .join(', ');

// One statement per flush. users.liveness_missing is missingLivenessFields() of the stored fields,
// kept by the users repo (migration 0004): only users with nothing missing get a verification. For
// every user of the batch, it mirrors transition('supersede') and transition('expire'): the user's
// live verification, if any, becomes expired when it is initiated and past expiry, superseded by
// the user's first request of the batch otherwise. A user's later requests in the same batch come
// in order, each superseding the one before: those are inserted already superseded (next_id), as
// if each had been its own flush, and only the last stays initiated.
// A live verification is always its user's latest (by seq, migration 0006): each new one
// supersedes it. So the probe reads the latest index entries, whatever the user's history, and no
// index mentions the state, which leaves the supersede a HOT update. It reads two: two kyclive
// processes on one PostgreSQL that initiate for the same user at the same moment do not see each
// other's row, and both stay live; the next initiation then supersedes both. Rows are inserted in
// request order (`order by ord`), so that seq follows the chain and the live one of a chain is the
// latest.
// The plan is cached (prepared statement) and made from the statistics of its moment, which can
// be far from the tables it then serves (after one user had been re-initiated a thousand times, an
// earlier form of this statement joined every batch against all the live verifications: 33 ms per
// request). So the statement leaves the planner one sane shape, a probe per request: users and
// the latest verifications are read in lateral subqueries that `offset 0` and `limit` keep from
// being flattened into joins, and the superseded row is re-read by primary key. (On tables of a
// page or two the planner may still scan; both adapters have the statement planned again every
// 2 s, for the tables' current sizes: pglite-prepared.mjs, postgres.ts.)
// The batch is one JSON parameter read by json_to_recordset, not an array per column. Its fields are
// read as text and numbers, the cheapest input functions: the challenge script stays JSON text until
// a certified verification stores it, and the clock readings are epoch seconds (PGlite, a batch of
// 25: 408 µs with jsonb and timestamps, 282 so). The planner
// sizes it at 100 rows whether it sees the value or not, so the plan cache settles on the generic
// plan: with arrays, a custom plan knew a short batch's length and looked cheaper than the generic
// one, and batches of one or two were planned again at every flush (about 1 ms each, as much as
// running them). Reading one JSON text is also cheaper than parsing eight arrays (PGlite, 25
// rows: 404 against 547 µs).
// The state test is repeated on v so that, on PostgreSQL, a row another transaction has just moved
// on (processing → processed) is re-checked and left alone. The CTEs and the insert share one
// snapshot, so the rows inserted here are not touched.
// It returns a row only for the requests that got no verification (unknown user, fields missing,
// or readiness not known yet): nothing at all, in the common case. Reading back one row per
// request was the largest source of garbage on the embedded database's thread (PGlite builds an
// ArrayBuffer, a string and an object per field), and its collections are what stalls requests.
export const INITIATE_SQL = `
  with q as (select * from rows from (json_to_recordset($1::json) as (id uuid, client_id text, user_id bigint, token_hash text,
                 redirect_url text, challenges text, next_id uuid, first boolean, at float8, expires_at float8))
               with ordinality as t(id, client_id, user_id, token_hash, redirect_url, challenges, next_id, first, at, expires_at, ord)),
  found as (
    select q.id, q.client_id, q.user_id, q.token_hash, q.challenges, q.next_id, q.first, to_timestamp(q.at) as at, to_timestamp(q.expires_at) as expires_at,
           q.ord, u.found, u.fields, u.liveness_missing,
           u.method, coalesce(q.redirect_url, u.default_redirect_url, $2) as redirect_url
      from q left join lateral (
        select true as found, u.fields, u.liveness_missing, c.verification_method as method, c.default_redirect_url
          from users u join clients c on c.id = u.client_id
         where u.id = q.user_id and u.client_id = q.client_id offset 0) u on true),
  ready as (select * from found where liveness_missing = '{}'),
  ended as (
    update verifications v
       set state = case when v.state = 'initiated' and v.expires_at <= live.at then 'expired' else 'superseded' end,
           superseded_by = case when v.state = 'initiated' and v.expires_at <= live.at then v.superseded_by else live.new_id end,
           updated_at = live.at
      from (select w.id, r.id as new_id, r.at from ready r cross join lateral
              (select id, state from verifications w where w.user_id = r.user_id order by w.seq desc limit 2) w
             where r.first and w.state in (${LIVE_STATES})) live
     where v.id = live.id and v.state in (${LIVE_STATES})),
  created as (
    insert into verifications (id, client_id, user_id, method, state, superseded_by, capture_token_hash, redirect_url, challenges, expires_at, created_at, updated_at)
    select id, client_id, user_id, method, case when next_id is null then 'initiated' else 'superseded' end, next_id, token_hash, redirect_url,
           case when method = 'certified' then challenges::jsonb else '[]'::jsonb end, expires_at, at, at
      from ready order by ord)
  select id, found is not null as found, liveness_missing as missing, case when found and liveness_missing is null then fields end as fields
    from found where liveness_missing is distinct from '{}'`;

export function createInitiateBatcher(deps: AppDeps, makeChallenges: () => Challenge[]) {
  let queue: Pending[] = [];
  let scheduled = false;

  // `release` hands the database to the next batch. It is called as soon as this batch's statement
  // has returned and before its requests are answered: answering them (serialising and writing
  // each response) takes the event loop ~100 µs a request, and the next batch's statement runs on
  // the database meanwhile instead of after (measured: the database thread sat idle 30 % of the
  // time under load).
  async function flush(batch: Pending[], release: () => void): Promise<void> {
    const now = deps.clock.now();
    const expiresAt = new Date(now.getTime() + deps.config.verificationTtlSeconds * 1000);
    // The verification method is the client's and is read in the statement, so every row carries a
    // challenge script, used only if the method turns out to be certified.
    const tokens = randomTokens(batch.length, 32);
    const rows = batch.map((p, i) => ({
      p,
      id: randomUUID(),
      token: tokens[i],
      next: null as string | null,
      first: true,
    }));
    const last = new Map<string, (typeof rows)[number]>();
    for (const r of rows) {
      const k = `${r.p.clientId}:${r.p.userId}`;
      const prev = last.get(k);
      if (prev) {
        prev.next = r.id;
        r.first = false;
      }
      last.set(k, r);
    }
    const records: InitiateRecord[] = rows.map((r) => ({
      id: r.id,
      client_id: r.p.clientId,
      user_id: r.p.userId,
      token_hash: sha256Hex(r.token),
      redirect_url: r.p.redirectUrl ?? null,
      challenges: makeChallenges(),
      next_id: r.next,
      first: r.first,
      at: now.getTime() / 1000,
      expires_at: expiresAt.getTime() / 1000,
    }));
    /** A request that got no verification (see INITIATE_SQL); the others have no row. */
    type Refused = { id: string; found: boolean; missing: string[] | null; fields: Record<string, string> | null };
    const batchJson = JSON.stringify(records);
    const params = [deps.config.defaultRedirectUrl];
    const result = deps.db.preparedBatch
      ? await deps.db.preparedBatch<Refused>(
          'initiate_verifications',
          INITIATE_SQL,
          batchJson,
          records.map((r) => r.id),
          params,
        )
      : await deps.db.prepared<Refused>('initiate_verifications', INITIATE_SQL, [batchJson, ...params]);
    const refused = new Map(result.rows.map((f) => [f.id, f]));
    const unknown: { p: Pending; fields: Record<string, string> }[] = [];
    for (const r of rows) {
      const f = refused.get(r.id);
      if (!f)
        r.p.resolve({
          identificationId: r.id,
          identificationUrl: `${deps.config.publicBaseUrl}/identification/${r.token}`,
        });
      else if (!f.found) r.p.reject(new KycError('not_found', 'User not found.', { param: 'userId' }));
      else if (f.missing === null) unknown.push({ p: r.p, fields: f.fields ?? {} });
      else r.p.reject(precondition(f.missing));
    }
    // The requests' handlers continue only once this synchronous code is done, so release() here
    // still sends the next batch before any response is written. With users to send round again,
    // the batch keeps its users until they are back in the queue.
    if (unknown.length === 0) {
      release();
      return;
    }
    // Users whose liveness_missing is not known yet: compute it here, store it, and send the ready
    // ones through the next flush. Bounded, in case their fields keep changing meanwhile.
    const missing = await storeLivenessMissing(
      deps.db,
      unknown.map((u) => ({ id: u.p.userId, fields: u.fields })),
    );
    const again: Pending[] = [];
    unknown.forEach(({ p }, i) => {
      if (missing[i].length) p.reject(precondition(missing[i]));
      else if (p.rounds + 1 >= MAX_ROUNDS)
        p.reject(new KycError('conflict', 'The user was being modified: try again.', { param: 'userId' }));
      else
        again.push({
          clientId: p.clientId,
          userId: p.userId,
          redirectUrl: p.redirectUrl,
          resolve: p.resolve,
          reject: p.reject,
          rounds: p.rounds + 1,
        });
    });
    // At the front: a later request for the same user is waiting in the queue, and it must still
    // supersede this one, not the other way round.
    queue = [...again, ...queue];
    release();
  }

  // A user is never in two batches in flight, so a later request still supersedes an earlier one.
  // PostgreSQL overlaps two batches: one runs while the other waits for its commit. Four made it
  // slower. Concurrent batches insert into the same last pages of the table and of its indexes (in
  // the slowest statements, auto_explain showed the insert of 48 rows taking 13.9 ms of 15), and
  // the requests that arrive meanwhile are split into more, smaller commits. A/B in one server, 8
  // pairs of 3 s each, two in flight against four: 1.11× the throughput on first verifications and
  // 1.13× on re-initiations, faster in 7 of 8 pairs, p99 26 → 26 and 26 → 23 ms. One against two:
  // 1.14× and 0.98×. Two stay, so that a database whose commits take longer than this machine's
  // still has work while it waits for one.
  // The embedded database runs one statement at a time: in its thread, batches are sent as they
  // form and the thread joins those that queued while it was busy (preparedBatch), so its next
  // statement starts as soon as one ends. Waiting for a batch to come back before sending the next
  // left the database idle for the two crossings between the threads, which were a third of each
  // round trip (1.2 of 3.7 ms under load). In process (pglite.ts), one flush at a time.
  const maxInFlight = deps.db.kind === 'postgres' ? 2 : deps.db.preparedBatch ? 64 : 1;
  let inFlight = 0;
  const busyUsers = new Set<string>();

  function pump(): void {
    while (inFlight < maxInFlight && queue.length) {
      const batch: Pending[] = [];
      const rest: Pending[] = [];
      const users = new Set<string>();
      for (const p of queue) {
        const k = `${p.clientId}:${p.userId}`;
        // A user's requests stay in order: all of them join (the statement chains them), or the
        // later ones wait for this batch because the batch is full or the user is in flight.
        if (batch.length < MAX_BATCH && !busyUsers.has(k)) {
          users.add(k);
          batch.push(p);
        } else rest.push(p);
      }
      if (batch.length === 0) return; // everything waits for a user already in flight
      queue = rest;
      inFlight++;
      for (const k of users) busyUsers.add(k);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        inFlight--;
        for (const k of users) busyUsers.delete(k);
        pump();
      };
      flush(batch, release)
        .catch((e) => {
          for (const p of batch) p.reject(e);
        })
        .finally(release);
    }
  }

  return function submit(req: InitiateRequest): Promise<Initiated> {
    return new Promise((resolve, reject) => {
      // Written out, not `{ ...req, resolve, reject, rounds: 0 }`: on Node 20 (V8 11.3) an object
      // spread followed by more properties is allocated in the old generation. Under load that was
      // 95 % of the event loop's promoted memory and a major collection every ~3 s, each pausing
      // every request in flight for 8-17 ms (see docs/benchmarks.md, session 10).
      queue.push({
        clientId: req.clientId,
        userId: req.userId,
        redirectUrl: req.redirectUrl,
        resolve,
        reject,
        rounds: 0,
      });
      // One macrotask lets the requests arriving together join the same batch.
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          pump();
        });
      }
    });
  };
}
