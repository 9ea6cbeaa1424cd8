-- The objects NSX Manager ships (domain `default`, org and project `default`, the default site
-- and enforcement point, the default segment profiles): the first instance to start after
-- this migration writes them, with their history, and removes the mark. A reset writes them
-- again.
INSERT INTO store_pending (name) VALUES ('seed_defaults');
