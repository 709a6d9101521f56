-- Hosted capture app (issue 4): resumable chunked uploads and desktop-to-phone handoff links.

-- A resumable upload of one capture step: the browser sends chunks at increasing offsets and,
-- after a dropped connection, asks for the offset the server holds and resumes from there.
create table capture_uploads (
  id uuid primary key,
  verification_id uuid not null references verifications(id),
  step text not null,
  content_type text not null,
  total_bytes bigint not null,
  received_bytes bigint not null default 0,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index capture_uploads_verification on capture_uploads (verification_id);

-- Chunks are kept as blobs until the last one arrives, then assembled into capture_media.
create table capture_upload_chunks (
  upload_id uuid not null references capture_uploads(id),
  start_offset bigint not null,
  bytes bigint not null,
  blob_key text not null,
  primary key (upload_id, start_offset)
);

-- One-time link shown as a QR code on a desktop. Claiming it (once, before expiry) mints the
-- phone's own capture token; only hashes are stored.
create table capture_handoffs (
  id uuid primary key,
  verification_id uuid not null references verifications(id),
  link_token_hash text not null unique,
  phone_token_hash text unique,
  expires_at timestamptz not null,
  claimed_at timestamptz,
  created_at timestamptz not null default now()
);
create index capture_handoffs_verification on capture_handoffs (verification_id);
