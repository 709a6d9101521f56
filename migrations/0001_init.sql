-- kyclive schema v1. Forward-only; never edit once released: add 0002_….sql instead.
-- Tenancy: every row an integrator can reach carries client_id, and every query filters on it.

create table clients (
  id text primary key,                                   -- OAuth2 client_id (public)
  treezor_client_id bigint generated always as identity (start with 929001) unique, -- "clientId" in objects
  name text not null,
  secret_hash text not null,                             -- scrypt$N$r$p$salt$hash
  scopes text[] not null,
  branding jsonb not null default '{}'::jsonb,
  default_redirect_url text,
  -- One live verification method per client, as Treezor configures it per environment.
  verification_method text not null default 'liveness' check (verification_method in ('liveness', 'certified')),
  secret_version integer not null default 1,             -- bumped on rotation: older tokens stop working
  created_at timestamptz not null default now(),
  disabled_at timestamptz
);

create table users (
  id bigint generated always as identity (start with 100001) primary key,
  client_id text not null references clients(id),
  fields jsonb not null default '{}'::jsonb,             -- Treezor user attributes as given (strings)
  user_status text not null default 'VALIDATED',
  kyc_level integer not null default 0,
  kyc_review integer not null default 0,
  kyc_review_comment text not null default '',
  parent_user_id bigint references users(id),
  created_at timestamptz not null default now(),
  modified_at timestamptz
);
create index users_client on users (client_id, id);
create index users_parent on users (parent_user_id) where parent_user_id is not null;

create table verifications (
  id uuid primary key,                                   -- identification-id
  client_id text not null references clients(id),
  user_id bigint not null references users(id),
  method text not null check (method in ('liveness', 'certified')),
  state text not null,
  capture_token_hash text not null unique,               -- sha256 of the opaque token in identification-url
  redirect_url text not null,
  challenges jsonb not null default '[]'::jsonb,
  document_type text,
  document_country text,
  capture_metadata jsonb not null default '{}'::jsonb,
  score integer,
  comment text,
  reasons jsonb,
  return_reason text,
  error_type text,
  analysis jsonb,                                        -- evidence: measurements, models, timings (no personal data)
  simulated boolean not null default false,
  superseded_by uuid,
  expires_at timestamptz not null,
  created_at timestamptz not null default now(),
  started_at timestamptz,                                -- end user opened the URL
  completed_at timestamptz,                              -- capture completed or aborted
  processed_at timestamptz,
  updated_at timestamptz not null default now()
);
create index verifications_user on verifications (user_id, created_at desc);
create index verifications_expiry on verifications (expires_at) where state in ('initiated', 'started');

-- Media the end user uploaded during capture (one per step; a retry replaces it).
create table capture_media (
  id uuid primary key,
  verification_id uuid not null references verifications(id),
  step text not null,
  blob_key text not null,
  content_type text not null,
  bytes bigint not null,
  sha256 text not null,
  created_at timestamptz not null default now(),
  unique (verification_id, step)
);

-- What the analysis produced and PUT kycliveness imports as Documents: the synthesis report
-- (type 26/34) and the key captures of the user's document and face.
create table verification_artifacts (
  id uuid primary key,
  verification_id uuid not null references verifications(id),
  kind text not null,                                    -- report | document_front | document_back | face
  document_type_id integer not null,
  name text not null,
  blob_key text not null,
  content_type text not null,
  bytes bigint not null,
  sha256 text not null,
  created_at timestamptz not null default now(),
  unique (verification_id, kind)
);

create table documents (
  id bigint generated always as identity (start with 500001) primary key,
  client_id text not null references clients(id),
  user_id bigint not null references users(id),
  verification_id uuid references verifications(id),
  artifact_id uuid unique references verification_artifacts(id),   -- makes the import idempotent
  document_type_id integer not null,
  document_tag text not null default '',
  document_status text not null default 'PENDING',
  name text not null,
  file_extension text not null,
  blob_key text not null,
  content_type text not null,
  bytes bigint not null,
  sha256 text not null,
  created_at timestamptz not null default now(),
  modified_at timestamptz
);
create index documents_client_user on documents (client_id, user_id);

-- Job queue (at-least-once; handlers are idempotent). A running job holds a lease; a worker
-- that dies lets the lease lapse and another worker takes the job over.
create table jobs (
  id bigint generated always as identity primary key,
  kind text not null,
  payload jsonb not null,                                -- ids only, never personal data
  dedupe_key text unique,
  state text not null default 'queued' check (state in ('queued', 'running', 'done', 'failed')),
  attempts integer not null default 0,
  max_attempts integer not null default 5,
  run_at timestamptz not null default now(),
  locked_until timestamptz,
  locked_by text,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index jobs_ready on jobs (run_at) where state = 'queued';
create index jobs_running on jobs (locked_until) where state = 'running';

create table webhook_subscriptions (
  uuid uuid primary key,
  client_id text not null references clients(id),
  url text not null,
  secret text not null,
  created_at timestamptz not null default now(),
  deleted_at timestamptz
);
create index webhook_subscriptions_client on webhook_subscriptions (client_id) where deleted_at is null;

-- Transactional outbox: an event row commits with the state change that caused it.
create table events (
  id uuid primary key,                                   -- webhook_id
  client_id text not null references clients(id),
  name text not null,                                    -- e.g. kycliveness.update
  object text not null,
  object_id text not null,
  payload text not null,                                 -- exact JSON text of object_payload (key order matters for the signature)
  created_at timestamptz not null default now()
);
create index events_client on events (client_id, created_at);

create table webhook_deliveries (
  id bigint generated always as identity primary key,
  event_id uuid not null references events(id),
  subscription_uuid uuid not null references webhook_subscriptions(uuid),
  state text not null default 'pending' check (state in ('pending', 'delivering', 'delivered', 'abandoned')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  first_attempt_at timestamptz,
  locked_until timestamptz,
  last_status integer,
  delivered_at timestamptz,
  created_at timestamptz not null default now(),
  unique (event_id, subscription_uuid)
);
create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where state = 'pending';
create index webhook_deliveries_stuck on webhook_deliveries (locked_until) where state = 'delivering';

create table webhook_attempts (
  id bigint generated always as identity primary key,
  delivery_id bigint not null references webhook_deliveries(id),
  attempted_at timestamptz not null,
  duration_ms integer not null,
  status integer,
  error text,
  response_snippet text
);
create index webhook_attempts_delivery on webhook_attempts (delivery_id);

-- Treezor accessTag: a repeated tag on a write returns the first response (per client, 24 h).
create table idempotency_keys (
  client_id text not null references clients(id),
  access_tag text not null,
  request_fingerprint text not null,
  status integer not null,
  body text not null,
  created_at timestamptz not null default now(),
  primary key (client_id, access_tag)
);

-- Sandbox SEPA credit transfers (POST /simulation/payin-sct).
create table sandbox_payins (
  id bigint generated always as identity (start with 23001) primary key,
  client_id text not null references clients(id),
  payin_id bigint not null,
  tx_id text not null,
  iban text not null,
  amount numeric(14, 2) not null,
  created_at timestamptz not null default now()
);
