-- Secrets the store keeps for itself, so that what it hands out stays valid across restarts:
-- `cursor`, the key that list and history cursors are authenticated with (32 random bytes,
-- made at the first start). Not part of any object; never served.
CREATE TABLE store_keys (
    name  TEXT NOT NULL PRIMARY KEY,
    value BLOB NOT NULL CHECK (length(value) = 32)
) WITHOUT ROWID;
