-- Back to plain integrity, for a core that is simple and obviously correct (issue 17). Users will
-- be erased soon, so "a verification's user is a user of its client" must hold on PostgreSQL under
-- concurrency, which the statement triggers of 0007 did not guarantee (an insert and a concurrent
-- delete of the same user could both commit). A real foreign key does, with the row lock it takes.

drop trigger verifications_user_belongs_to_client on verifications;
drop trigger verifications_owner_is_fixed on verifications;
drop trigger users_keep_verifications on users;
drop trigger users_keep_verifications_on_move on users;
drop function verifications_user_belongs_to_client();
drop function verifications_owner_is_fixed();
drop function users_keep_verifications();

alter table verifications
  add constraint verifications_user_fkey foreign key (client_id, user_id) references users (client_id, id);

-- A verification superseded by another names it.
alter table verifications
  add constraint verifications_superseded_by_fkey foreign key (superseded_by) references verifications (id);

-- POST kycliveness now checks the user's fields in the domain, inside its transaction
-- (missingLivenessFields), instead of reading a copy of the answer stored beside them.
alter table users drop column liveness_missing;

-- The expiry sweep finds the initiated verifications past their lifetime through this index, and
-- applies the domain's expire transition to each; it no longer keeps a mark.
drop index verifications_expiry;
create index verifications_expiring on verifications (expires_at) where state = 'initiated';
drop table sweep_marks;
