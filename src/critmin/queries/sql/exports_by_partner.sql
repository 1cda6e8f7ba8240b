-- exports_by_partner: exports per year and importing partner over all the series asked
-- for, each flow counted once.
-- Parameters: those of selected_once (a TradeFilter).
-- Output: year, partner, value_usd, quantity_kg.
WITH
-- include: selected_once
SELECT f.year::INTEGER AS year, f.importer AS partner,
       sum(f.value_usd) AS value_usd,
       sum(f.quantity_kg) AS quantity_kg
FROM selected_once AS f
GROUP BY ALL
ORDER BY year, value_usd DESC, partner
