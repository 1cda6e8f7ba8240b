-- exporters_total: the world market of each group of baskets that share codes (named as
-- exports_total names them: "Gallium, Germanium, ..." for 811292): every exporter's
-- exports per year and group, each flow counted once, so no code is counted under two
-- rows.
-- Parameters: those of selected_once (a TradeFilter; its exporters usually empty = all).
-- Output: year, series, exporter, value_usd, quantity_kg.
WITH
-- include: selected_once
SELECT f.year::INTEGER AS year, f.series, f.exporter,
       sum(f.value_usd) AS value_usd,
       -- tonnes only within one value-chain stage (series_stages and stage_key: selected)
       CASE WHEN max(f.series_stages) <= 1 AND min(f.stage_key) = max(f.stage_key)
            THEN sum(f.quantity_kg)
       END AS quantity_kg
FROM selected_once AS f
GROUP BY ALL
ORDER BY series, year, value_usd DESC, exporter
