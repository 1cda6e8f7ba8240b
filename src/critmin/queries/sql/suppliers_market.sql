-- suppliers_market: the Suppliers page's two tables in one statement: every exporter's
-- exports per year and series (as exporters_by_series), and beside them what the
-- buyers ($buyers: one country, or a group's members such as the EU27) bought from it
-- (as imports_by_supplier: flows into a buyer, leaving out trade among the buyers
-- themselves). One statement instead of two over the same selection: DuckDB's fixed
-- cost per statement is most of each one's time on the derived tables
-- (docs/performance.md).
-- Parameters: those of selected (a TradeFilter over every importer) and $buyers.
-- Output: year, series, exporter, value_usd, quantity_kg, bought_usd, bought_kg,
-- bought_flows (0 where the buyers bought nothing from the exporter that year).
WITH
-- include: selected
,
-- A flow into one of the buyers from outside them: what imports_by_supplier counts.
market AS (
    SELECT f.*,
           list_contains($buyers, f.importer) AND NOT list_contains($buyers, f.exporter) AS bought
    FROM selected AS f
)
SELECT f.year::INTEGER AS year, f.series, f.exporter,
       sum(f.value_usd) AS value_usd,
       -- tonnes only within one value-chain stage (series_stages and stage_key: selected)
       CASE WHEN max(f.series_stages) <= 1 AND min(f.stage_key) = max(f.stage_key)
            THEN sum(f.quantity_kg)
       END AS quantity_kg,
       sum(f.value_usd) FILTER (WHERE f.bought) AS bought_usd,
       CASE WHEN max(f.series_stages) <= 1 AND min(f.stage_key) = max(f.stage_key)
            THEN sum(f.quantity_kg) FILTER (WHERE f.bought)
       END AS bought_kg,
       count(*) FILTER (WHERE f.bought) AS bought_flows
FROM market AS f
GROUP BY ALL
ORDER BY series, year, value_usd DESC, exporter
