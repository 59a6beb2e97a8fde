"""The bureau (督导室): review visits, follow rectification to closure, compliance, reports, audit.

One sub-package per sub-feature (review, rectification, compliance, reports, audit, dashboard); what they
share sits here: who may see what (``access``), words for outcomes (``formatting``), form basics (``schemas``).
The pages share one layout and partials (gallery, audit trail, county picker), so the templates stay together
in ``templates/bureau/`` and every blueprint reads them from there.
"""

from pathlib import Path

#: The bureau's templates (``bureau/*.html``), shared by the sub-packages' blueprints.
TEMPLATES = str(Path(__file__).with_name("templates"))
