-- production: USGS production, reserves, capacity and import-reliance figures for a
-- set of countries (ISO3; the United States' net import reliance included), or of every
-- country when the list is empty (the catalog reads it so, once per warehouse version).
-- Parameters: $countries (VARCHAR[]).
-- Output: the production table's columns, in no order: each page orders what it shows
-- (a sort here was two-thirds of the query, DuckDB sorting every row's strings).
SELECT country, commodity, statistic, year::INTEGER AS year, value, unit, value_flag, source
FROM production
WHERE true
    -- only with $countries
      AND list_contains($countries, country)
    -- end
