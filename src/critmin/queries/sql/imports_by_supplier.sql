-- imports_by_supplier: what the importers asked for (one country, or a group's
-- members such as the EU27) buy per year and series, by supplier, leaving out trade
-- among themselves (intra-EU flows are not EU imports).
-- Parameters: those of selected (a TradeFilter whose importers are not empty).
-- Output: year, series, supplier, value_usd, quantity_kg.
WITH
-- include: selected
SELECT f.year::INTEGER AS year, f.series, f.exporter AS supplier,
       sum(f.value_usd) AS value_usd,
       -- tonnes only within one value-chain stage (series_stages and stage_key: selected)
       CASE WHEN max(f.series_stages) <= 1 AND min(f.stage_key) = max(f.stage_key)
            THEN sum(f.quantity_kg)
       END AS quantity_kg
FROM selected AS f
WHERE NOT list_contains($importers, f.exporter)
GROUP BY ALL
ORDER BY series, year, value_usd DESC, supplier
