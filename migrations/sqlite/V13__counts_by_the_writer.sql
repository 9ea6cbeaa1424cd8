-- The counts by type and parent are kept by the store's writer, once per committed batch
-- (one row changed per type and parent the batch created or deleted objects of), and counted
-- again after a reset, a restore, an import or the defaults of a new store. A trigger changed
-- the row with every create and delete, and made each object's INSERT keep a statement
-- journal: a tenth of the writer's time. Rows written into policy_objects by hand, while no
-- server runs, are not counted until the next reset, restore or import.
DROP TRIGGER policy_objects_counted_on_insert;
DROP TRIGGER policy_objects_counted_on_delete;
