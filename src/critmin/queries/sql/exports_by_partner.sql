-- exports_by_partner: exports per year and importing partner over all the series asked
-- for, each flow counted once.
-- Parameters: those of selected_once (a TradeFilter).
-- Output: year, partner, value_usd, quantity_kg.
WITH
-- include: selected_once
SELECT f.year::INTEGER AS year, f.importer AS partner,
       sum(f.value_usd) AS value_usd,
       -- tonnes only within one value-chain stage (series_stages and stage_key: selected)
       CASE WHEN max(f.series_stages) <= 1 AND min(f.stage_key) = max(f.stage_key)
            THEN sum(f.quantity_kg)
       END AS quantity_kg
FROM selected_once AS f
GROUP BY ALL
ORDER BY year, value_usd DESC, partner
