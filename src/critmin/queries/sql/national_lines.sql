-- national_lines: the national tariff lines (EU CN8, US HTS10) mapped to minerals, with
-- their years, exactness grade, other goods, evidence and citation (for the catalog).
-- Parameters: none.
-- Output: the national_lines table's columns, by mineral, classification and code.
SELECT classification, code, label, mineral, hs_edition, hs6, valid_from, valid_to, grade,
       other_goods, evidence, citation
FROM national_lines
ORDER BY mineral, classification, code
