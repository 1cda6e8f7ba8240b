-- exporters_by_series: the world market of each series: every exporter's exports
-- per year (to all partners).
-- Parameters: $minerals, $codes, $year_from, $year_to, $side.
-- Output: year, series, exporter, value_usd, quantity_kg.
WITH
-- include: selection
SELECT f.year::INTEGER AS year, s.series, f.exporter,
       sum(f.value_usd) AS value_usd,
       sum(f.quantity_kg) AS quantity_kg
FROM trade_flows AS f
JOIN selection AS s ON f.hs6 = s.hs6 AND f.hs_edition = s.hs_edition
WHERE f.year BETWEEN $year_from AND $year_to
  AND f.side = $side
GROUP BY ALL
ORDER BY series, year, value_usd DESC
