-- deposits: deposits, mines and plants, filtered, with every column (the Map's table
-- and its download). An empty list means "any".
-- Parameters: $countries, $commodities, $statuses.
-- Output: the deposits table's columns.
SELECT id, name, country, lat, lon, commodities, status, deposit_type, source,
       source_reference, location_check
FROM deposits
WHERE TRUE
-- include: deposit_filter
-- id last: a total order, so the table's first rows are always the same sites.
ORDER BY country, name, id
