"""The findings report: claims = declared studies + published anchors + verdict rules.

``mbert_lab.studies.report`` is the study; this package holds its parts (claim files, anchors,
measures, verdict rules, rendering).
"""
