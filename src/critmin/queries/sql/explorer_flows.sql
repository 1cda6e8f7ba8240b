-- explorer_flows: the flows the Data explorer groups and counts. Each flow once, under
-- its "owner" (the first chosen basket that holds its code, as in selected_once); with
-- $per_mineral, once under every chosen basket that holds its code (811292 under
-- gallium, germanium, indium, niobium and vanadium), with `once` marking the owner's row
-- so that totals across minerals still count each flow once. Codes chosen directly that
-- no chosen basket holds are read from trade_flows, as the mineral "HS 123456" with no
-- stage. $stages keeps the basket codes of those value-chain stages.
-- Parameters: $minerals, $codes, $stages (VARCHAR[]), $per_mineral (BOOLEAN) and those
-- of trade_filter.
-- Output (as a CTE): mineral, stage, year, hs_edition, hs6, exporter, importer,
-- value_usd, quantity_kg, source, side, once.
-- Included by flows_grouped and flows_facet; not run on its own.
owners AS (
    SELECT hs_edition, hs6, min(mineral) AS owner
    FROM mineral_baskets
    WHERE list_contains($minerals, mineral)
    -- only with $stages
      AND list_contains($stages, stage)
    -- end
    GROUP BY hs_edition, hs6
),
explorer_flows AS (
    SELECT f.mineral, f.stage, f.year, f.hs_edition, f.hs6, f.exporter, f.importer,
           f.value_usd, f.quantity_kg, f.source, f.side, f.mineral = o.owner AS once
    FROM mineral_flows AS f
    JOIN owners AS o ON o.hs_edition = f.hs_edition AND o.hs6 = f.hs6
    WHERE list_contains($minerals, f.mineral)
      AND ($per_mineral OR f.mineral = o.owner)
    -- only with $stages
      AND list_contains($stages, f.stage)
    -- end
    -- include: trade_filter
    -- only with $codes
    UNION ALL
    SELECT 'HS ' || f.hs6 AS mineral, NULL::VARCHAR AS stage, f.year::INTEGER AS year,
           f.hs_edition, f.hs6, f.exporter, f.importer, f.value_usd, f.quantity_kg,
           f.source, f.side, true AS once
    FROM trade_flows AS f
    WHERE list_contains($codes, f.hs6)
      AND NOT EXISTS (
          SELECT 1 FROM owners AS o WHERE o.hs_edition = f.hs_edition AND o.hs6 = f.hs6
      )
    -- include: trade_filter
    -- end
)
