-- exports_by_series: one exporter's exports per year and series (mineral or HS6).
-- Parameters: $exporter, $minerals, $codes, $year_from, $year_to, $side.
-- Output: year, series, value_usd, quantity_kg, value_with_quantity_usd, flows.
WITH
-- include: selection
SELECT f.year::INTEGER AS year, s.series,
       sum(f.value_usd) AS value_usd,
       sum(f.quantity_kg) AS quantity_kg,
       coalesce(sum(f.value_usd) FILTER (WHERE f.quantity_kg IS NOT NULL), 0) AS value_with_quantity_usd,
       count(*) AS flows
FROM trade_flows AS f
JOIN selection AS s ON f.hs6 = s.hs6 AND f.hs_edition = s.hs_edition
WHERE f.exporter = $exporter
  AND f.year BETWEEN $year_from AND $year_to
  AND f.side = $side
GROUP BY ALL
ORDER BY series, year
