-- monthly_by_partner: one exporter's monthly exports of the chosen codes, by partner, as
-- the partners declare them (their imports, side importer_reported: the mirror) and/or
-- as the exporter declares them (side exporter_reported), one row per declaration.
-- Where two sources hold the same reporter, month and code (UN Comtrade and the
-- reporter's own customs office: Eurostat Comext for EU members, the US Census Bureau
-- for the United States), the customs office's figure is kept and UN Comtrade's left
-- out, so no month is counted twice. Read from monthly_exports (the declarations of
-- the baskets' codes and the national lines, sorted by exporter): the exporter's own
-- row groups only.
-- Parameters: $exporter (VARCHAR), $sides (VARCHAR[]), $ym_from, $ym_to (INTEGER,
-- year * 100 + month), and those of monthly_lines.
-- Output: year, month, partner, reporter, side, source, classification, national_code,
-- hs6, minerals (VARCHAR[]), value_usd (empty for euros without a rate), value_native,
-- currency, quantity_kg, provisional, vintage. In no order.
WITH
-- include: monthly_lines
, declared AS (
    SELECT m.*, l.minerals,
           CASE m.source WHEN 'comtrade' THEN 2 ELSE 1 END AS rank
    FROM monthly_exports AS m
    JOIN lines AS l
      ON m.classification = l.classification AND m.national_code = l.code
     AND m.hs_edition = l.hs_edition
    WHERE m.exporter = $exporter
      AND m.year * 100 + m.month BETWEEN $ym_from AND $ym_to
      AND list_contains($sides, m.side)
      AND ((m.side = 'importer_reported' AND m.partner = $exporter)
           OR (m.side = 'exporter_reported' AND m.reporter = $exporter))
      AND (l.valid_from IS NULL OR m.year >= l.valid_from)
      AND (l.valid_to IS NULL OR m.year <= l.valid_to)
)
SELECT year, month,
       CASE side WHEN 'importer_reported' THEN reporter ELSE partner END AS partner,
       reporter, side, source, classification, national_code, hs6, minerals,
       value_usd, value_native, currency, quantity_kg, provisional, vintage
FROM declared
QUALIFY rank = min(rank) OVER (PARTITION BY reporter, partner, side, year, month, national_code)
