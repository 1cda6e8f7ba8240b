-- selected: the trade flows a request asks for, one row per flow and series: a
-- mineral basket's id, or "HS 123456" for a code chosen directly. A flow whose code
-- sits in two chosen baskets appears under both, so per-series totals are right and
-- totals across series must use selected_once instead. Basket flows come from
-- mineral_flows (derived when the data change, sorted by mineral and exporter); codes
-- chosen directly are read from trade_flows, whose files are sorted by hs6, so both
-- scans skip the row groups of other products. Without codes the trade_flows branch
-- is left out of the text (see db.specialise).
-- $stages keeps only the basket codes of those value-chain stages (codes chosen
-- directly have no stage and are kept).
-- Parameters: $minerals, $codes, $stages (VARCHAR[]) and those of trade_filter.
-- Included by the other queries; not run on its own.
selected AS (
    SELECT f.mineral AS series, f.stage, f.year, f.hs_edition, f.hs6, f.exporter,
           f.importer, f.value_usd, f.quantity_kg, f.source, f.side, f.release
    FROM mineral_flows AS f
    WHERE list_contains($minerals, f.mineral)
    -- only with $stages
      AND list_contains($stages, f.stage)
    -- end
    -- include: trade_filter
    -- only with $codes
    UNION ALL
    SELECT 'HS ' || f.hs6 AS series, NULL::VARCHAR AS stage, f.year::INTEGER AS year,
           f.hs_edition, f.hs6,
           f.exporter, f.importer, f.value_usd, f.quantity_kg, f.source, f.side, f.release
    FROM trade_flows AS f
    WHERE list_contains($codes, f.hs6)
    -- include: trade_filter
    -- end
)
