"""The FHIR front door: hospitals write Bundles, QC/researchers/auditors read, all through one router.

Importing the package registers the path convertors its routes use (FHIR type and id syntax), so
paths such as ``/fhir/Measure/$evaluate-measure`` never match the generic read route.
"""

from facade.frontdoor.convertors import register_convertors

register_convertors()
