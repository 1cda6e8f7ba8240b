-- production: USGS production, reserves and capacity figures for one country.
-- Parameters: $country.
-- Output: the production table's columns.
SELECT country, commodity, statistic, year::INTEGER AS year, value, unit, value_flag, source
FROM production
WHERE country = $country
ORDER BY commodity, statistic, year
