-- exports_overview: the Overview page's three tables of one exporter's exports in one
-- statement, each flow counted once (selected_once): per year and series (as
-- exports_total), per year and value-chain stage (as exports_by_stage), and per
-- importing partner in the last year ($year_to, as exports_by_partner). One statement
-- instead of three: DuckDB's fixed cost per statement (parse, bind, plan, pipeline)
-- is most of each one's time on the derived tables (docs/performance.md).
-- Parameters: those of selected_once (a TradeFilter).
-- Output: part ('series', 'stage' or 'partner'), year, series, stage, partner,
-- value_usd, quantity_kg, value_with_quantity_usd, flows; the columns a part does not
-- group by are NULL.
WITH
-- include: selected_once
SELECT CASE grouping(f.series, f.stage, f.importer)
           WHEN 3 THEN 'series' WHEN 5 THEN 'stage' ELSE 'partner' END AS part,
       f.year::INTEGER AS year, f.series, f.stage, f.importer AS partner,
       sum(f.value_usd) AS value_usd,
       -- tonnes only within one value-chain stage (series_stages and stage_key:
       -- selected); the 'stage' part's groups are one stage each
       CASE WHEN (grouping(f.stage) = 0 OR max(f.series_stages) <= 1)
                 AND min(f.stage_key) = max(f.stage_key)
            THEN sum(f.quantity_kg)
       END AS quantity_kg,
       CASE WHEN (grouping(f.stage) = 0 OR max(f.series_stages) <= 1)
                 AND min(f.stage_key) = max(f.stage_key)
            THEN coalesce(sum(f.value_usd) FILTER (WHERE f.quantity_kg IS NOT NULL), 0)
       END AS value_with_quantity_usd,
       count(*) AS flows
FROM selected_once AS f
GROUP BY GROUPING SETS ((f.year, f.series), (f.year, f.stage), (f.year, f.importer))
-- grouping(): a bit for each column left out; 6 is the (year, importer) set.
HAVING grouping(f.series, f.stage, f.importer) <> 6 OR f.year = $year_to
ORDER BY part, year, series, stage, value_usd DESC, partner
