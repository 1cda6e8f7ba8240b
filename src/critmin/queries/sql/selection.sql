-- selection: the HS6 codes a request asks for, per HS edition, each labelled with
-- its series (a mineral basket name, or "HS 123456" for a code chosen directly).
-- Parameters: $minerals (VARCHAR[]), $codes (VARCHAR[]).
-- Included by the other queries; not run on its own.
selection AS (
    SELECT mineral AS series, hs_edition, hs6
    FROM mineral_baskets
    WHERE list_contains($minerals, mineral)
    UNION
    SELECT 'HS ' || code AS series, editions.hs_edition, code AS hs6
    FROM unnest($codes) AS chosen(code)
    CROSS JOIN (SELECT DISTINCT hs_edition FROM mineral_baskets) AS editions
)
