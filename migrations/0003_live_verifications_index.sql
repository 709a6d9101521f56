-- A new POST kycliveness updates the user's unfinished verifications (supersede/expire). Without
-- this the update walks every verification the user ever had; with it, only the live ones.
create index verifications_user_live on verifications (client_id, user_id) where state in ('initiated', 'processing');
