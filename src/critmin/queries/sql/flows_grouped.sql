-- flows_grouped: the flows a request asks for, summed by the dimensions a user chose
-- (the Data explorer's "Group rows by" and, for a pivot, "Columns"), with the totals.
-- A dimension not chosen is NULL in every row (its $by_ flag is false), so the text is
-- the same whatever is chosen: the choice is a bound value, never an identifier.
-- Counting: each flow once, except in rows split by mineral, where a flow whose code
-- sits in several chosen baskets (811292) counts under each of them; every total
-- across minerals (the grand total, a pivot's row or column totals) counts it once.
-- Tonnes are added within one value-chain stage only: a row that mixes stages (ores
-- with refined metal, or a code chosen directly) has no tonnes and no unit value, and
-- `stages` says which it mixes (a bit per stage: 1, 2, 4 in the order of
-- $stage_order, 8 for codes chosen directly).
-- share_pct: the row's value over the total of its year when a year is grouped,
-- otherwise over the grand total. change_pct: on the same row's previous year when a
-- year is grouped, otherwise $year_to on the year before (NULL without both years).
-- Parameters: those of explorer_flows (a TradeFilter and $per_mineral); $by_year,
-- $by_exporter, $by_importer, $by_partner_group, $by_mineral, $by_stage, $by_hs6,
-- $by_side, $by_source (BOOLEAN): the row dimensions; $across (VARCHAR): the column
-- dimension of a pivot, one of the same names ('' for none; its totals are left out of
-- the text without it); $group_iso3, $group_names (VARCHAR[]): each partner's group, for
-- partner_group (empty lists when it is not asked); $rest (VARCHAR): the group of the
-- partners in none; $stage_order (VARCHAR[]): the value-chain stages, in order.
-- Sort first by: part
-- Sort by: value_usd, tonnes, unit_value_usd_per_kg, share_pct, change_pct, flows, year, exporter, importer, partner_group, mineral, stage, hs6, side, source, across
-- Output: part (0 the grand total, 1 a pivot's column totals, 2 its row totals, 3 the
-- rows), year, exporter, importer, partner_group, mineral, stage, hs_edition, hs6,
-- description, side, source, across, flows, value_usd, tonnes, unit_value_usd_per_kg,
-- share_pct, change_pct, stages.
WITH
-- include: explorer_flows
,
partner_groups AS (
    SELECT unnest($group_iso3::VARCHAR[]) AS iso3, unnest($group_names::VARCHAR[]) AS name
),
keyed AS (
    SELECT CASE WHEN $by_year THEN f.year::INTEGER END AS year,
           CASE WHEN $by_exporter THEN f.exporter END AS exporter,
           CASE WHEN $by_importer THEN f.importer END AS importer,
           CASE WHEN $by_partner_group THEN coalesce(g.name, $rest) END AS partner_group,
           CASE WHEN $by_mineral THEN f.mineral END AS mineral,
           CASE WHEN $by_stage THEN f.stage END AS stage,
           CASE WHEN $by_hs6 THEN f.hs_edition END AS hs_edition,
           CASE WHEN $by_hs6 THEN f.hs6 END AS hs6,
           CASE WHEN $by_side THEN f.side END AS side,
           CASE WHEN $by_source THEN f.source END AS source,
           CASE $across
               WHEN 'year' THEN f.year::VARCHAR
               WHEN 'exporter' THEN f.exporter
               WHEN 'importer' THEN f.importer
               WHEN 'partner_group' THEN coalesce(g.name, $rest)
               WHEN 'mineral' THEN f.mineral
               WHEN 'stage' THEN f.stage
               WHEN 'hs6' THEN f.hs6 || ' ' || f.hs_edition
               WHEN 'side' THEN f.side
               WHEN 'source' THEN f.source
           END AS across,
           f.year AS flow_year, f.once, f.value_usd, f.quantity_kg,
           coalesce(1 << (list_position($stage_order::VARCHAR[], f.stage) - 1), 8) AS stage_bit
    FROM explorer_flows AS f
    LEFT JOIN partner_groups AS g ON g.iso3 = f.importer
),
summed AS (
    SELECT year, exporter, importer, partner_group, mineral, stage, hs_edition, hs6, side,
           source, across,
           3 - GROUPING(year, across) AS part,
           -- rows split by mineral count a shared code under each mineral; others once
           ($by_mineral AND GROUPING(mineral) = 0)
               OR ($across = 'mineral' AND GROUPING(across) = 0) AS each_mineral,
           count(*) AS flows_each,
           count(*) FILTER (WHERE once) AS flows_once,
           sum(value_usd) AS value_each,
           sum(value_usd) FILTER (WHERE once) AS value_once,
           sum(quantity_kg) AS kg_each,
           sum(quantity_kg) FILTER (WHERE once) AS kg_once,
           sum(value_usd) FILTER (WHERE quantity_kg IS NOT NULL) AS priced_each,
           sum(value_usd) FILTER (WHERE quantity_kg IS NOT NULL AND once) AS priced_once,
           bit_or(stage_bit) AS stages_each,
           bit_or(stage_bit) FILTER (WHERE once) AS stages_once,
           sum(value_usd) FILTER (WHERE flow_year = $year_to) AS last_each,
           sum(value_usd) FILTER (WHERE flow_year = $year_to AND once) AS last_once,
           sum(value_usd) FILTER (WHERE flow_year = $year_to - 1) AS previous_each,
           sum(value_usd) FILTER (WHERE flow_year = $year_to - 1 AND once) AS previous_once
    FROM keyed
    GROUP BY GROUPING SETS (
        (year, exporter, importer, partner_group, mineral, stage, hs_edition, hs6, side, source,
         across),
        -- only with $across
        (year, exporter, importer, partner_group, mineral, stage, hs_edition, hs6, side, source),
        (across),
        -- end
        ()
    )
),
counted AS (
    SELECT part, year, exporter, importer, partner_group, mineral, stage, hs_edition, hs6,
           side, source, across,
           -- the year a row is in, when years are grouped (as rows or as columns)
           coalesce(year, CASE WHEN $across = 'year' THEN TRY_CAST(across AS INTEGER) END) AS in_year,
           CASE WHEN each_mineral THEN flows_each ELSE flows_once END AS flows,
           CASE WHEN each_mineral THEN value_each ELSE value_once END AS value_usd,
           value_once,
           CASE WHEN each_mineral THEN kg_each ELSE kg_once END AS kg,
           CASE WHEN each_mineral THEN priced_each ELSE priced_once END AS priced,
           CASE WHEN each_mineral THEN stages_each ELSE stages_once END AS stages,
           CASE WHEN each_mineral THEN last_each ELSE last_once END AS last_usd,
           CASE WHEN each_mineral THEN previous_each ELSE previous_once END AS previous_usd
    FROM summed
),
measured AS (
    SELECT *,
           lag(in_year) OVER by_year AS previous_year,
           lag(value_usd) OVER by_year AS previous_year_usd,
           sum(value_once) OVER (PARTITION BY part, in_year) AS total_usd
    FROM counted
    WINDOW by_year AS (
        PARTITION BY part, exporter, importer, partner_group, mineral, stage, hs_edition, hs6,
                     side, source, CASE WHEN $across <> 'year' THEN across END
        ORDER BY in_year
    )
)
SELECT m.part, m.year, m.exporter, m.importer, m.partner_group, m.mineral, m.stage,
       m.hs_edition, m.hs6, p.description, m.side, m.source, m.across,
       m.flows, m.value_usd,
       CASE WHEN bit_count(m.stages) = 1 THEN m.kg / 1000 END AS tonnes,
       CASE WHEN bit_count(m.stages) = 1 THEN m.priced / nullif(m.kg, 0) END
           AS unit_value_usd_per_kg,
       100 * m.value_usd / nullif(m.total_usd, 0) AS share_pct,
       CASE
           WHEN m.in_year IS NOT NULL THEN
               CASE WHEN m.previous_year = m.in_year - 1
                    THEN 100 * (m.value_usd / nullif(m.previous_year_usd, 0) - 1) END
           ELSE 100 * (m.last_usd / nullif(m.previous_usd, 0) - 1)
       END AS change_pct,
       m.stages
FROM measured AS m
LEFT JOIN products AS p ON p.hs_edition = m.hs_edition AND p.hs6 = m.hs6
