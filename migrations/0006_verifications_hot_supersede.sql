-- POST kycliveness supersedes the user's live verification: an UPDATE of its state. While `state`
-- appeared in an index (the predicates of verifications_user_live and verifications_expiry), that
-- update could not be HOT: PostgreSQL wrote a new row version and a new entry in every index of
-- the table, the five of them. Measured on PGlite, a re-initiation then cost ~170 µs of database
-- time against ~100 for a first verification. Every later state change (started, processing,
-- processed) paid the same. No index mentions `state` any more:
--
-- * The live verification is found as the user's latest one: each new verification supersedes
--   the live one, so a live verification is always its user's latest. "Latest" needs a total
--   order, which created_at is not: the requests of one user chained in one flush share their
--   created_at, two flushes can fall in the same millisecond, and a clock can step back. `seq`
--   comes from a sequence, in insertion order.
-- * The expiry sweep walks a plain expires_at index from where the previous sweep stopped
--   (sweep_marks), instead of a partial index of the unexpired ones.
--
-- fillfactor 80 leaves room in each page for the new row version a HOT update writes beside the
-- old one.

alter table verifications add column seq bigint;
-- Existing rows take the order they were created in; among rows that share a timestamp (a chain
-- written by one flush), superseded ones come first, so that the live one is still the latest.
update verifications v set seq = o.n
  from (select id, row_number() over (order by created_at, superseded_by is null, id) as n from verifications) o
 where o.id = v.id;
create sequence verifications_seq owned by verifications.seq;
select setval('verifications_seq', coalesce((select max(seq) from verifications), 0) + 1, false);
alter table verifications alter column seq set default nextval('verifications_seq'), alter column seq set not null;

drop index verifications_user;
drop index verifications_user_live;
drop index verifications_expiry;
create index verifications_user on verifications (user_id, seq desc);
create index verifications_expiry on verifications (expires_at);
alter table verifications set (fillfactor = 80);

-- Where a periodic sweep has got to, so that the next one starts there and not at the beginning of
-- history.
create table sweep_marks (
  name text primary key,
  swept_to timestamptz not null
);
