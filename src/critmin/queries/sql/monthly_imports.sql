-- monthly_imports: what importers (one country, or a group's members such as the EU27)
-- declare they bought of the chosen codes per month, by supplier, leaving out trade
-- among themselves; a customs office's figure kept before UN Comtrade's for the same
-- reporter, month and code (as in monthly_by_partner). Read from monthly_exports (the
-- declarations of the baskets' codes and the national lines), so no page reads the
-- whole monthly_flows table.
-- Parameters: $importers (VARCHAR[]), $ym_from, $ym_to (INTEGER, year * 100 + month),
-- and those of monthly_lines.
-- Output: year, month, supplier, reporter, source, classification, national_code, hs6,
-- minerals (VARCHAR[]), value_usd, value_native, currency, quantity_kg, provisional.
-- In no order.
WITH
-- include: monthly_lines
, declared AS (
    SELECT m.*, l.minerals,
           CASE m.source WHEN 'comtrade' THEN 2 ELSE 1 END AS rank
    FROM monthly_exports AS m
    JOIN lines AS l
      ON m.classification = l.classification AND m.national_code = l.code
     AND m.hs_edition = l.hs_edition
    WHERE m.year * 100 + m.month BETWEEN $ym_from AND $ym_to
      AND m.side = 'importer_reported'
      AND list_contains($importers, m.reporter)
      AND NOT list_contains($importers, m.partner)
      AND (l.valid_from IS NULL OR m.year >= l.valid_from)
      AND (l.valid_to IS NULL OR m.year <= l.valid_to)
)
SELECT year, month, partner AS supplier, reporter, source, classification, national_code,
       hs6, minerals, value_usd, value_native, currency, quantity_kg, provisional
FROM declared
QUALIFY rank = min(rank) OVER (PARTITION BY reporter, partner, year, month, national_code)
