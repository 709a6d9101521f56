-- What POST kycliveness needs to know about a user, stored beside the fields it is derived from:
-- the required fields the user lacks, as domain/user.ts missingLivenessFields() computed them when
-- the fields were last written ('{}' = ready). With it, an initiation checks the user, supersedes
-- and inserts in one statement instead of reading the fields back first. NULL means "not computed":
-- rows written before this migration, or a fields update whose recomputation lost a race. The
-- initiation then computes it from the fields itself and stores it (initiate-batcher.ts), so the
-- rule lives in one place, in the domain. A change of that rule ships a migration that resets the
-- column to NULL.
alter table users add column liveness_missing text[];
