-- trade_years: years, HS editions, sources and sides present in trade_flows.
-- Parameters: none.
-- Output: year, hs_edition, source, side, release, flows.
SELECT year::INTEGER AS year, hs_edition, source, side, release, count(*) AS flows
FROM trade_flows
GROUP BY ALL
ORDER BY year, hs_edition, source, side
