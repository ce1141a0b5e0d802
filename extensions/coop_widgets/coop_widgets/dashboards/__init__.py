"""The public Voila dashboards as code: each module renders one page from the typed client's
models to ipywidgets and escaped HTML, and the notebooks in ``voila_dashboards/`` only call it
(``from coop_widgets.dashboards.challenge import page; page()``). What every page shares, the
query string, links between pages and the friendly error pages, is :mod:`.page`."""
