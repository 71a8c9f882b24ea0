"""The town's services: `catalog` (facilities' access points, entitlements, access decisions)
and one sub-package per municipal service, which meet only through the catalogue."""
