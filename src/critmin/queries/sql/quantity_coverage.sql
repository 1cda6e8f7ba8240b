-- quantity_coverage: how far quantities cover the flows the pages show (the mineral
-- baskets' flows, each once: a code in several baskets counted under the first), per
-- source, release, side and year: the About page's statement on quantities.
-- Parameters: none.
-- Output: source, release, side, year, flows, with_quantity, value_usd,
-- value_with_quantity_usd.
WITH owners AS (
    SELECT hs_edition, hs6, min(mineral) AS owner FROM mineral_baskets GROUP BY ALL
)
SELECT f.source, f.release, f.side, f.year::INTEGER AS year,
       count(*) AS flows,
       count(f.quantity_kg) AS with_quantity,
       sum(f.value_usd) AS value_usd,
       coalesce(sum(f.value_usd) FILTER (WHERE f.quantity_kg IS NOT NULL), 0)
           AS value_with_quantity_usd
FROM mineral_flows AS f
JOIN owners AS o ON o.hs_edition = f.hs_edition AND o.hs6 = f.hs6 AND o.owner = f.mineral
GROUP BY ALL
ORDER BY source, release, side, year
