-- The first query a person writes, `SELECT ... FROM policy_objects WHERE id = 't14'`, is a
-- lookup of this index instead of a scan of the table: the list's indexes (V9) lead with the
-- parent, so none of them starts with the id. (SQLite's V14 makes the same index.)
CREATE INDEX policy_objects_by_id_alone ON policy_objects (id);
