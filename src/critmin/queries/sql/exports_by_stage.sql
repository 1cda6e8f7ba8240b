-- exports_by_stage: exports per year and value-chain stage (ore, intermediate, refined;
-- empty for codes chosen directly) over all the series asked for, each flow counted
-- once under its owning basket's stage: does a country move up the chain?
-- Parameters: those of selected_once (a TradeFilter).
-- Output: year, stage, value_usd, quantity_kg.
WITH
-- include: selected_once
SELECT f.year::INTEGER AS year, f.stage,
       sum(f.value_usd) AS value_usd,
       -- each group is one stage; codes chosen directly (no stage) only one at a time
       CASE WHEN min(f.stage_key) = max(f.stage_key) THEN sum(f.quantity_kg) END AS quantity_kg
FROM selected_once AS f
GROUP BY ALL
ORDER BY year, stage
