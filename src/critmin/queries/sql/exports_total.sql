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
       sum(f.quantity_kg) AS quantity_kg,
       coalesce(sum(f.value_usd) FILTER (WHERE f.quantity_kg IS NOT NULL), 0) AS value_with_quantity_usd,
       count(*) AS flows
FROM selected_once AS f
GROUP BY ALL
ORDER BY year, series
