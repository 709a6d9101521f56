-- The tenant a job works for, so that the job runner can share the workers fairly between tenants
-- (issue 25, item 5): one tenant's backlog cannot hold the analyses of another.
alter table jobs add column tenant text;
-- The jobs a tenant had running lately count against its next one: found by this index.
create index jobs_recent on jobs (updated_at) where attempts > 0;
