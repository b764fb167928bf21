"""``clearwell demo``: the demo plant assembled from every package.

The one place that knows all of them at once (like ``tests/`` and ``bench/``): the
simulator's site file feeds the collectors and the exports' permit, the logbook and
compliance seed their demo records, and the web app runs beside them.
"""
