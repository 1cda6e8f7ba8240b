-- imports_by_supplier: one importer's purchases per year, series and supplier.
-- Parameters: $importers (VARCHAR[]: one country, or a group's members), $minerals,
-- $codes, $year_from, $year_to, $side.
-- Output: year, series, supplier, value_usd, quantity_kg.
WITH
-- include: selected
SELECT f.year::INTEGER AS year, f.series, f.exporter AS supplier,
       sum(f.value_usd) AS value_usd,
       sum(f.quantity_kg) AS quantity_kg
FROM selected AS f
WHERE list_contains($importers, f.importer)
  AND NOT list_contains($importers, f.exporter)
  AND f.year BETWEEN $year_from AND $year_to
  AND f.side = $side
GROUP BY ALL
ORDER BY series, year, value_usd DESC
