-- The objects NSX Manager ships (domain `default`, org and project `default`, the default site
-- and enforcement point, the default segment profiles): the store writes them at its next
-- start, with their history, then removes the mark. A reset writes them again.
INSERT INTO store_pending (name) VALUES ('seed_defaults');
