-- selected: the trade flows a request asks for, each labelled with its series (a
-- mineral basket's name, or "HS 123456" for a code chosen directly). Basket flows
-- come from mineral_flows (derived when the data change, sorted by mineral and
-- exporter); codes chosen directly are read from trade_flows, whose files are
-- sorted by hs6, so both scans skip the row groups of other products. Without
-- codes the trade_flows branch is left out (`-- only with`, see db.specialise).
-- Parameters: $minerals (VARCHAR[]), $codes (VARCHAR[]).
-- Included by the other queries; not run on its own.
selected AS (
    SELECT mineral AS series, year, hs_edition, hs6, exporter, importer,
           value_usd, quantity_kg, source, side, release
    FROM mineral_flows
    WHERE list_contains($minerals, mineral)
    -- only with $codes
    UNION ALL
    SELECT 'HS ' || hs6 AS series, year::INTEGER AS year, hs_edition, hs6, exporter,
           importer, value_usd, quantity_kg, source, side, release
    FROM trade_flows
    WHERE list_contains($codes, hs6)
    -- end
)
