-- exports_by_partner_and_stage: exports per year, importing partner and value-chain
-- stage over all the series asked for, each flow counted once: tonnes and unit values
-- beside each partner's value, per stage (a tonne of ore and a tonne of ferroalloy are
-- different goods). Codes chosen directly have no stage (NULL).
-- Parameters: those of selected_once (a TradeFilter).
-- Output: year, partner, stage, value_usd, quantity_kg, value_with_quantity_usd.
WITH
-- include: selected_once
SELECT f.year::INTEGER AS year, f.importer AS partner, f.stage,
       sum(f.value_usd) AS value_usd,
       -- each group is one stage; codes chosen directly (no stage) only one at a time
       CASE WHEN min(f.stage_key) = max(f.stage_key) THEN sum(f.quantity_kg) END AS quantity_kg,
       CASE WHEN min(f.stage_key) = max(f.stage_key)
            THEN coalesce(sum(f.value_usd) FILTER (WHERE f.quantity_kg IS NOT NULL), 0)
       END AS value_with_quantity_usd
FROM selected_once AS f
GROUP BY ALL
ORDER BY year, partner, stage
