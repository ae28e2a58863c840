"""pytest-voicetest: test voice agents with pytest.

Importing this package is cheap: heavy modules (litellm, scipy, openpyxl, numpy)
load only when a test or command needs them.
"""

__version__ = "0.1.0"
