-- countries: the countries table.
-- Parameters: none.
-- Output: iso3, iso_numeric, name, continent, region, groups, lat, lon.
SELECT iso3, iso_numeric, name, continent, region, groups, lat, lon FROM countries ORDER BY name
