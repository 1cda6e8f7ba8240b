"""What each page shows, as pure functions: a page's validated state in, the frames
and figures it lays out returned, built on `critmin.queries` and `critmin.metrics`.

One module per page (`views/<page>.py`), each with a frozen `State` dataclass (what
the page's URL holds) and `build(db, catalog, state)`. Nothing here imports
Streamlit: the pages cache and draw these results (`ui/data.view`), the tests call
them directly, and the benchmark times these same functions.
"""
