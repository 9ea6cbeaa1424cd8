-- The inventory NSX discovers from its compute managers (the README's "Inventory"): one row
-- per item, by its kind and id (`VirtualMachine/<external_id>`), the item as JSON. Not
-- written through the Policy API: seeded with the defaults, changed through /store/v1.
-- Removed by a reset (and seeded again); copied by snapshots.
CREATE TABLE store_inventory (
    id   TEXT NOT NULL PRIMARY KEY,
    item TEXT NOT NULL CHECK (json_type(item) = 'object')
) WITHOUT ROWID;

CREATE TABLE store_snapshot_inventory (
    snapshot TEXT NOT NULL,
    id       TEXT NOT NULL,
    item     TEXT NOT NULL,
    PRIMARY KEY (snapshot, id)
) WITHOUT ROWID;

-- A store made before the inventory gets the shipped one at its next start.
INSERT INTO store_pending (name) VALUES ('seed_inventory');
