-- monthly_lines: the codes a monthly query reads, with the chosen minerals each holds:
-- the mineral baskets' HS6 codes (classification HS) for $basket_minerals, and the
-- national tariff lines graded exact (EU CN8, US HTS10) for $exact_minerals, each with
-- the years it is valid. One of the two lists is empty; its branch is left out of the
-- text (db.specialise).
-- Parameters: $basket_minerals, $exact_minerals (VARCHAR[]).
-- Included by the monthly queries; not run on its own.
lines AS (
    SELECT classification, hs_edition, code, valid_from, valid_to,
           list(DISTINCT mineral ORDER BY mineral) AS minerals
    FROM (
        SELECT 'HS' AS classification, NULL::INTEGER AS valid_from, NULL::INTEGER AS valid_to,
               b.mineral, b.hs_edition, b.hs6 AS code
        FROM mineral_baskets AS b
        WHERE false
        -- only with $basket_minerals
           OR list_contains($basket_minerals, b.mineral)
        -- end
        UNION ALL
        SELECT n.classification, n.valid_from, n.valid_to, n.mineral, n.hs_edition, n.code
        FROM national_lines AS n
        WHERE false
        -- only with $exact_minerals
           OR (list_contains($exact_minerals, n.mineral) AND n.grade = 'exact')
        -- end
    )
    GROUP BY ALL
)
