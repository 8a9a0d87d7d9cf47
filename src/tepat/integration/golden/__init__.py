"""A linkage run end to end: records out of staging and the registry, Splink, then in one
transaction: clusters, golden records, registry updates (with change records), flags and the
review queue.

One module per step: `loading` (the records to link), `survivorship` (the golden value of each
field), `writeback` (golden values onto the registry, through registry.bulk), `flags` (flags
and the review queue), `incremental` (linking only the new records), with `apply` writing a
result and `run` driving a run. This package's public interface is what it exports here.
"""

from tepat.integration.golden.loading import REGISTRY
from tepat.integration.golden.run import link_run_execute
from tepat.integration.golden.survivorship import APPLIED_FIELDS, GOLDEN_PERSON_FIELDS

__all__ = ["APPLIED_FIELDS", "GOLDEN_PERSON_FIELDS", "REGISTRY", "link_run_execute"]
