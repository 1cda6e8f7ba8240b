-- exports_by_series: one exporter's exports per year and series (mineral or HS6).
-- Parameters: $exporter, $minerals, $codes, $year_from, $year_to, $side.
-- Output: year, series, value_usd, quantity_kg, value_with_quantity_usd, flows.
WITH
-- include: selected
SELECT f.year::INTEGER AS year, f.series,
       sum(f.value_usd) AS value_usd,
       sum(f.quantity_kg) AS quantity_kg,
       coalesce(sum(f.value_usd) FILTER (WHERE f.quantity_kg IS NOT NULL), 0) AS value_with_quantity_usd,
       count(*) AS flows
FROM selected AS f
WHERE f.exporter = $exporter
  AND f.year BETWEEN $year_from AND $year_to
  AND f.side = $side
GROUP BY ALL
ORDER BY series, year
