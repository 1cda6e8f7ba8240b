-- site_points: what the Map draws and counts of every site the filters match: the
-- deposits query's rows without the text (ids, source references, deposit types) that
-- only its table and download show, and in the table's stored order rather than
-- sorted (a map has no order). With the USGS worldwide compilation loaded (33,661
-- sites, 3.3 MB of references), sorting every site with its references was most of
-- the Map's query time (docs/performance.md).
-- Parameters: $countries, $commodities, $statuses.
-- Output: name, country, lat, lon, commodities, status, source, location_check.
SELECT name, country, lat, lon, commodities, status, source, location_check
FROM deposits
WHERE TRUE
-- include: deposit_filter
