-- exporters_by_series: the world market of each series: every exporter's exports per
-- year to the importers asked for (usually any).
-- Parameters: those of selected (a TradeFilter; its exporters usually empty = all).
-- Output: year, series, exporter, value_usd, quantity_kg.
WITH
-- include: selected
SELECT f.year::INTEGER AS year, f.series, f.exporter,
       sum(f.value_usd) AS value_usd,
       -- tonnes only within one value-chain stage (series_stages and stage_key: selected)
       CASE WHEN max(f.series_stages) <= 1 AND min(f.stage_key) = max(f.stage_key)
            THEN sum(f.quantity_kg)
       END AS quantity_kg
FROM selected AS f
GROUP BY ALL
ORDER BY series, year, value_usd DESC, exporter
