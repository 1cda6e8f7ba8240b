-- trade_filter: the conditions every trade query shares, on a table aliased f: the
-- year window, and the declaration sides, exporters and importers asked for.
-- Parameters: $year_from, $year_to, $sides, $exporters, $importers (VARCHAR[]). An empty
-- list means "any": its condition is dropped from the text (db.specialise), so the
-- scan is not slowed by a condition that selects everything.
-- Included by selected and selected_once; not run on its own.
      AND f.year BETWEEN $year_from AND $year_to
      -- only with $sides
      AND list_contains($sides, f.side)
      -- end
      -- only with $exporters
      AND list_contains($exporters, f.exporter)
      -- end
      -- only with $importers
      AND list_contains($importers, f.importer)
      -- end
