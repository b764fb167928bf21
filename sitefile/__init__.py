"""The site file: one YAML per site naming its devices, servers, tags and permit.

Its schema (:mod:`sitefile.models`), the checks across tags (:mod:`sitefile.checks`)
and the loader whose errors name the file, the line and the field
(:mod:`sitefile.load`), shared by the collectors, the simulators and the exports.
"""
