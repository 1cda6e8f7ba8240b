-- mirror_flows: exports per year, partner and side of the declaration (reconciled,
-- exporter-reported, importer-reported) with the source, over all the series asked
-- for, each flow counted once.
-- Parameters: those of selected_once (a TradeFilter, usually with every side).
-- Output: year, partner, side, source, value_usd, in no order: the Mirror view adds them
-- up and orders its tables itself (the sort was 5-7% of the statement).
WITH
-- include: selected_once
SELECT f.year::INTEGER AS year, f.importer AS partner, f.side, f.source,
       sum(f.value_usd) AS value_usd
FROM selected_once AS f
GROUP BY ALL
