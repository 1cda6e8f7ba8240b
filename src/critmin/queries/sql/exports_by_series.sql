-- exports_by_series: exports per year and series (mineral basket or HS6 code) of the
-- exporters asked for (usually one), to the importers asked for (usually any).
-- Parameters: those of selected (a TradeFilter).
-- Output: year, series, value_usd, quantity_kg, value_with_quantity_usd, flows.
WITH
-- include: selected
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
FROM selected AS f
GROUP BY ALL
ORDER BY series, year
