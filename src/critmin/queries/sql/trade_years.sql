-- trade_years: years, HS editions, sources and sides present in trade_flows, with
-- the number of flows (from the derived trade_summary table).
-- Parameters: none.
-- Output: year, hs_edition, source, side, release, flows.
SELECT year::INTEGER AS year, hs_edition, source, side, release, sum(flows)::BIGINT AS flows
FROM trade_summary
GROUP BY ALL
ORDER BY year, hs_edition, source, side
