-- One chunk at a time per resumable upload (issue 25, item 6): a request claims the upload's next
-- offset before it reads a byte of its body, and holds it until its chunk is stored or refused.
-- A process that dies while writing leaves a lease that lapses.
alter table capture_uploads add column writing_until timestamptz;

-- A tenant's open verifications, for its storage quota (what its capture links hold at once).
create index verifications_open_by_client on verifications (client_id) where state in ('initiated', 'processing');
