-- exports_by_partner: one exporter's exports per year, series and importing partner.
-- Parameters: $exporter, $minerals, $codes, $year_from, $year_to, $side.
-- Output: year, series, partner, value_usd, quantity_kg.
WITH
-- include: selected
SELECT f.year::INTEGER AS year, f.series, f.importer AS partner,
       sum(f.value_usd) AS value_usd,
       sum(f.quantity_kg) AS quantity_kg
FROM selected AS f
WHERE f.exporter = $exporter
  AND f.year BETWEEN $year_from AND $year_to
  AND f.side = $side
GROUP BY ALL
ORDER BY series, year, value_usd DESC
