-- POST kycliveness writes a verification per request, and re-initiation also updates the user's
-- previous one. Two costs of those writes that the rules they serve do not need:
--
-- 1. The composite foreign key of 0005 checked each inserted row with a query of its own, which
--    also locked the user's row (FOR KEY SHARE: a write to the users page and a WAL record per
--    verification). Measured on PGlite, batches of 25 re-initiations: 73-77 µs of database time
--    per initiation with it, 59-63 without. The rule stays, checked once per statement over all
--    the rows it inserted, and kept from the other side by refusing the changes that would break
--    it (a verification's user or client changed, a user with verifications deleted or moved).
--    What a trigger cannot do that the key did: on PostgreSQL, an insert and a concurrent delete
--    of the same user could both commit. kyclive never deletes users (Treezor's API has no such
--    call), so only a hand-written delete racing a request could do it.
--
-- 2. Every verification is updated at least once (superseded, or started, processing, processed),
--    and a row is about 330 bytes. At fillfactor 80 a page kept room for 4 of its 20 rows to change
--    in place: half the updates (measured) found no room, wrote the new version on another page
--    and a new entry in each of the table's four indexes. At 50, 98 % of the supersedes were HOT
--    (in place, no index entry), for a table about 40 % larger. The setting applies to pages
--    written from now on.

alter table verifications drop constraint verifications_user_fkey;
alter table verifications set (fillfactor = 50);

create function verifications_user_belongs_to_client() returns trigger language plpgsql as $$
begin
  if exists (select 1 from new_verifications n
              where not exists (select 1 from users u where u.client_id = n.client_id and u.id = n.user_id)) then
    raise foreign_key_violation using message = 'a verification''s user must be a user of the verification''s client',
      constraint = 'verifications_user_fkey', table = 'verifications';
  end if;
  return null;
end $$;
create trigger verifications_user_belongs_to_client after insert on verifications
  referencing new table as new_verifications for each statement execute function verifications_user_belongs_to_client();

create function verifications_owner_is_fixed() returns trigger language plpgsql as $$
begin
  raise foreign_key_violation using message = 'a verification''s client and user never change',
    constraint = 'verifications_user_fkey', table = 'verifications';
end $$;
create trigger verifications_owner_is_fixed before update of client_id, user_id on verifications
  for each row when (old.client_id is distinct from new.client_id or old.user_id is distinct from new.user_id)
  execute function verifications_owner_is_fixed();

create function users_keep_verifications() returns trigger language plpgsql as $$
begin
  if exists (select 1 from verifications v where v.user_id = old.id) then
    raise foreign_key_violation using message = 'a user with verifications cannot be deleted or moved to another client',
      constraint = 'verifications_user_fkey', table = 'users';
  end if;
  return case when tg_op = 'DELETE' then old else new end;
end $$;
create trigger users_keep_verifications before delete on users
  for each row execute function users_keep_verifications();
create trigger users_keep_verifications_on_move before update of id, client_id on users
  for each row when (old.id is distinct from new.id or old.client_id is distinct from new.client_id)
  execute function users_keep_verifications();
