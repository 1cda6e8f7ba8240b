-- deposit_facets: commodities and statuses present among a set of countries' sites,
-- with counts, for the Map page's filters. An empty list means "any".
-- Parameters: $countries.
-- Output: facet ('commodity' or 'status'), value, sites.
WITH sites AS (
    SELECT * FROM deposits WHERE len($countries) = 0 OR list_contains($countries, country)
)
SELECT 'commodity' AS facet, commodity AS value, count(*) AS sites
FROM sites, unnest(commodities) AS c(commodity)
GROUP BY ALL
UNION ALL
SELECT 'status' AS facet, status AS value, count(*) AS sites
FROM sites
GROUP BY ALL
ORDER BY facet, sites DESC
