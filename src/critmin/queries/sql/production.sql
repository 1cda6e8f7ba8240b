-- production: USGS production, reserves, capacity and import-reliance figures for a
-- set of countries (ISO3; the United States' net import reliance included).
-- Parameters: $countries (VARCHAR[]).
-- Output: the production table's columns.
SELECT country, commodity, statistic, year::INTEGER AS year, value, unit, value_flag, source
FROM production
WHERE list_contains($countries, country)
ORDER BY country, commodity, statistic, year
