-- monthly_mirror: one exporter's exports as its partners declare them (their imports,
-- the mirror), per month, partner and source, for each chosen series: a mineral's
-- basket codes, or * for every basket code together, each declaration once (a
-- customs office's figure kept before UN Comtrade's; euros without a rate left out).
-- The inputs of the provisional nowcast, summed when the data change (derive.py).
-- Parameters: $exporter (VARCHAR), $series (VARCHAR[]), $ym_from, $ym_to (INTEGER,
-- year * 100 + month).
-- Output: year, month, partner (the declaring importer), source, series, value_usd.
-- In no order.
SELECT year, month, reporter AS partner, source, series, value_usd
FROM monthly_mirror
WHERE exporter = $exporter
  AND list_contains($series, series)
  AND year BETWEEN $ym_from // 100 AND $ym_to // 100
  AND year * 100 + month BETWEEN $ym_from AND $ym_to
