-- exporters_by_stage: every exporter's exports per year and value-chain stage over all
-- the series asked for (usually one mineral), each flow counted once: the Suppliers
-- page's tonnes, unit values and peers, which compare only within one stage (a tonne of
-- chromite ore is not a tonne of ferrochrome). Codes chosen directly have no stage.
-- Parameters: those of selected_once (a TradeFilter; its exporters usually empty = all).
-- Output: year, exporter, stage, value_usd, quantity_kg, value_with_quantity_usd.
WITH
-- include: selected_once
SELECT f.year::INTEGER AS year, f.exporter, f.stage,
       sum(f.value_usd) AS value_usd,
       -- each group is one stage; codes chosen directly (no stage) only one at a time
       CASE WHEN min(f.stage_key) = max(f.stage_key) THEN sum(f.quantity_kg) END AS quantity_kg,
       CASE WHEN min(f.stage_key) = max(f.stage_key)
            THEN coalesce(sum(f.value_usd) FILTER (WHERE f.quantity_kg IS NOT NULL), 0)
       END AS value_with_quantity_usd
FROM selected_once AS f
GROUP BY ALL
ORDER BY year, exporter, stage
