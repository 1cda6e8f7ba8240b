-- exports_total: exports per year over all the series asked for, each flow counted
-- once (a code shared by two chosen baskets is not added twice), per group of baskets
-- that share codes (series: their labels, e.g. "Gallium, Germanium"): the rows add up
-- to the true total, and can be stacked.
-- Parameters: those of selected_once (a TradeFilter).
-- Output: year, series, value_usd, quantity_kg, value_with_quantity_usd, flows.
WITH
-- include: selected_once
SELECT f.year::INTEGER AS year, f.series,
       sum(f.value_usd) AS value_usd,
       -- tonnes only within one value-chain stage (series_stages and stage_key: selected)
       CASE WHEN max(f.series_stages) <= 1 AND min(f.stage_key) = max(f.stage_key)
            THEN sum(f.quantity_kg)
       END AS quantity_kg,
       CASE WHEN max(f.series_stages) <= 1 AND min(f.stage_key) = max(f.stage_key)
            THEN coalesce(sum(f.value_usd) FILTER (WHERE f.quantity_kg IS NOT NULL), 0)
       END AS value_with_quantity_usd,
       count(*) AS flows
FROM selected_once AS f
GROUP BY ALL
ORDER BY year, series
