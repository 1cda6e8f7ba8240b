-- site_points: what the Map draws and counts of every site the filters match: the
-- deposits query's rows without the text (ids, source references, deposit types) that
-- only its table and download show, in the same order (country, name, id), so that
-- when more sites match than the row cap, the map, its counts and its download hold
-- the same first sites. Sorting the few columns drawn is cheap; sorting every site with
-- its references was most of the Map's query time with the USGS worldwide
-- compilation loaded (33,661 sites, 3.3 MB of references; docs/performance.md).
-- Parameters: $countries, $commodities, $statuses.
-- Output: name, country, lat, lon, commodities, status, source, location_check.
SELECT name, country, lat, lon, commodities, status, source, location_check
FROM deposits
WHERE TRUE
-- include: deposit_filter
-- id last: a total order, as in deposits.sql.
ORDER BY country, name, id
