"""Shared test settings: hypothesis profiles.

`default` keeps a plain `pytest` run quick (a few examples per property, enough to catch a wrong
derivative); `ci` explores more. Pick one with `HYPOTHESIS_PROFILE=ci python -m pytest`.
No deadlines: the machines that run the suite are shared and timing is not what these tests check.
"""

import os

from hypothesis import HealthCheck, settings

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile("default", max_examples=25, deadline=None, suppress_health_check=_QUIET)
settings.register_profile("ci", max_examples=80, deadline=None, suppress_health_check=_QUIET, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
