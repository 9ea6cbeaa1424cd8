-- The counts the triggers keep are kept by parent too: a catalog collection is the objects
-- of its types hanging from one parent, so its list's result_count is a sum of a few rows
-- however many objects it holds (it was a count of the parent's rows). Each create and
-- delete still changes one row. policy_object_counts stays, a view with the same name and
-- columns (objects per resource_type).
CREATE TABLE policy_object_counts_by_parent (
    resource_type TEXT    NOT NULL,
    parent_path   TEXT    NOT NULL,
    count         INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (resource_type, parent_path)
) WITHOUT ROWID;

INSERT INTO policy_object_counts_by_parent (resource_type, parent_path, count)
    SELECT resource_type, parent_path, count(*) FROM policy_objects
    GROUP BY resource_type, parent_path;

DROP TRIGGER policy_objects_counted_on_insert;
DROP TRIGGER policy_objects_counted_on_delete;
DROP TABLE policy_object_counts;

CREATE VIEW policy_object_counts AS
SELECT resource_type, sum(count) AS count
  FROM policy_object_counts_by_parent
 GROUP BY resource_type;

CREATE TRIGGER policy_objects_counted_on_insert
AFTER INSERT ON policy_objects
BEGIN
    INSERT INTO policy_object_counts_by_parent (resource_type, parent_path, count)
        VALUES (NEW.resource_type, NEW.parent_path, 1)
        ON CONFLICT (resource_type, parent_path) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER policy_objects_counted_on_delete
AFTER DELETE ON policy_objects
BEGIN
    UPDATE policy_object_counts_by_parent SET count = count - 1
     WHERE resource_type = OLD.resource_type AND parent_path = OLD.parent_path;
END;
