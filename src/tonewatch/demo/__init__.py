"""A deterministic support history for a fictional company, and the ``tonewatch demo`` loop.

``generate()`` yields v1 events for Northwind Cloud (a project-management SaaS): customers
across segments and languages, tickets and conversations on every channel, agents' replies,
surveys, weekly usage and renewal outcomes, shaped by the archetypes the product exists to
tell apart. ``ground_truth()`` says which customer is which, so the demo can show how well
the health score read them. ``prepare_data``, ``ingest_demo`` and ``summarize`` are the
steps of ``tonewatch demo``.
"""

from ._archetypes import ARCHETYPE_NAMES, ARCHETYPES, Archetype, ArchetypeSpec
from ._company import COMPANY, DEFAULT_START, PRODUCT
from ._generate import dumps_event, generate, ground_truth, write_jsonl
from ._run import DEMO_CUSTOMERS, DemoData, IngestOutcome, demo_anchor, ingest_demo, prepare_data, write_meta
from ._summary import Accuracy, ArchetypeRow, AtRiskCustomer, DemoSummary, QueueEntry, summarize
from ._truth import CustomerTruth, GroundTruth

__all__ = [
    "ARCHETYPES",
    "ARCHETYPE_NAMES",
    "COMPANY",
    "DEFAULT_START",
    "DEMO_CUSTOMERS",
    "PRODUCT",
    "Accuracy",
    "Archetype",
    "ArchetypeRow",
    "ArchetypeSpec",
    "AtRiskCustomer",
    "CustomerTruth",
    "DemoData",
    "DemoSummary",
    "GroundTruth",
    "IngestOutcome",
    "QueueEntry",
    "demo_anchor",
    "dumps_event",
    "generate",
    "ground_truth",
    "ingest_demo",
    "prepare_data",
    "summarize",
    "write_jsonl",
    "write_meta",
]
