-- deposits: deposits, mines and plants, filtered. An empty list means "any".
-- Parameters: $countries, $commodities, $statuses.
-- Output: the deposits table's columns.
SELECT id, name, country, lat, lon, commodities, status, deposit_type, source,
       source_reference, location_check
FROM deposits
WHERE (len($countries) = 0 OR list_contains($countries, country))
  AND (len($commodities) = 0 OR len(list_intersect($commodities, commodities)) > 0)
  AND (len($statuses) = 0 OR list_contains($statuses, status))
ORDER BY country, name
