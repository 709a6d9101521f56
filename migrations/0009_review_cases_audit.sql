-- The human half of KYC (issue 18): compliance staff, the cases they review, and the audit log.

-- Back office accounts, separate from API clients. Authentication columns (password, TOTP, single
-- sign-on) come with the login itself.
create table staff (
  id uuid primary key,
  email text not null unique,
  name text not null,
  roles text[] not null,
  -- the tenants (client ids) this person works for; null: all of them
  tenants text[],
  created_at timestamptz not null default now(),
  disabled_at timestamptz
);

-- A verification waits in `processing` while a human decides; review_state says so.
alter table verifications add column review_state text check (review_state in ('pending', 'decided'));

-- Per tenant: four-eyes, sampling of automated decisions, SLA (domain/review/review-case.ts
-- ReviewSettings; absent keys take the defaults).
alter table clients add column review_settings jsonb not null default '{}'::jsonb;

create table review_cases (
  id uuid primary key,
  client_id text not null references clients(id),
  kind text not null check (kind in ('verification', 'kyc_review')),
  verification_id uuid unique references verifications(id),
  user_id bigint not null,
  state text not null check (state in ('open', 'pending_check', 'closed', 'cancelled')),
  queue_reason text not null check (queue_reason in ('certified', 'undecided', 'sampled', 'kyc_review')),
  method text check (method in ('liveness', 'certified')),
  -- the automated verdict, kept as evidence beside the human one: {score, reasons, comment}
  recommendation jsonb,
  four_eyes boolean not null,
  assignee uuid references staff(id),
  assigned_at timestamptz,
  proposal jsonb,
  decision jsonb,
  evidence_hash text,
  opened_at timestamptz not null,
  due_at timestamptz not null,
  closed_at timestamptz,
  updated_at timestamptz not null,
  foreign key (client_id, user_id) references users (client_id, id),
  check ((kind = 'verification') = (verification_id is not null))
);
create index review_cases_waiting on review_cases (due_at) where state in ('open', 'pending_check');
create index review_cases_user on review_cases (user_id);
-- One KYC review case in progress per user.
create unique index review_cases_kyc_in_progress on review_cases (user_id)
  where kind = 'kyc_review' and state in ('open', 'pending_check');

-- Append-only, hash-chained audit log: each entry carries the hash of the previous one, so a row
-- changed or removed afterwards breaks the chain from there (npx kyclive audit verify). No update
-- or delete path: the triggers below refuse both, whoever asks.
create table audit_log (
  seq bigint primary key,
  at timestamptz not null,
  actor_type text not null check (actor_type in ('staff', 'client', 'system')),
  actor_id text,
  action text not null,
  client_id text,
  target_type text,
  target_id text,
  source_ip text,
  details jsonb not null default '{}'::jsonb,
  prev_hash text not null,
  hash text not null unique
);
create index audit_log_target on audit_log (target_type, target_id);
create index audit_log_actor on audit_log (actor_type, actor_id);

-- The head of the chain, one row: appending locks it, so entries get consecutive numbers and each
-- names its predecessor, whatever the number of processes.
create table audit_head (
  id integer primary key check (id = 1),
  seq bigint not null,
  hash text not null
);
insert into audit_head (id, seq, hash) values (1, 0, repeat('0', 64));

create function audit_log_is_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'the audit log is append-only' using errcode = 'insufficient_privilege';
end $$;
create trigger audit_log_no_update before update or delete on audit_log
  for each row execute function audit_log_is_append_only();
